import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { ShellLex, ShellExpansionError } from "./index.js";

const fixtures = fileURLToPath(new URL("../../../fixtures/conformance/buildkit/shell/", import.meta.url));

/** `W` lines are Windows-only: there env names are case-insensitive (`$pwd` finds `PWD`). */
const SKIPPED_PLATFORM = "W";

test("envVarTest: every line for Linux expands as BuildKit does", () => {
  const env = new Map([["PWD", "/home"], ["SHELL", "bash"], ["KOREAN", "한국어"], ["NULL", ""]]);
  const lex = new ShellLex("\\");
  let checked = 0;
  const skipped: string[] = [];
  for (const raw of readFileSync(fixtures + "envVarTest", "utf8").split("\n")) {
    if (raw.startsWith("#") || raw.trim() === "") continue;
    const fields = raw.split("|");
    assert.equal(fields.length, 3, `bad line ${raw}`);
    const [platform, input, expected] = fields.map((f) => f.trim()) as [string, string, string];
    if (platform === SKIPPED_PLATFORM) {
      skipped.push(input);
      continue;
    }
    if (expected === "error") {
      assert.throws(() => lex.processWord(input, env), ShellExpansionError, `input ${input}`);
    } else {
      assert.equal(lex.processWord(input, env), expected, `input ${input}`);
    }
    checked++;
  }
  assert.equal(checked, 228);
  assert.deepEqual(skipped, ["he$pwd.", "안녕$pwd."]);
});

test("wordsTest: word splitting keeps quoted whitespace and splits unquoted expansions", () => {
  const env = new Map<string, string>();
  const lex = new ShellLex("\\");
  let checked = 0;
  for (const line of readFileSync(fixtures + "wordsTest", "utf8").split("\n")) {
    if (line.startsWith("#") || line === "") continue;
    if (line.startsWith("ENV ")) {
      const entry = line.slice(3).replace(/^ +/, "");
      const eq = entry.indexOf("=");
      env.set(entry.slice(0, eq), entry.slice(eq + 1));
      continue;
    }
    const parts = line.split("|");
    assert.equal(parts.length, 2);
    const input = parts[0]!.trim();
    const expected = parts[1]!.replace(/^ +/, "").split(",");
    let got: string[];
    try {
      got = lex.processWords(input, env);
    } catch {
      got = ["error"];
    }
    assert.deepEqual(got, expected, `input ${input}`);
    checked++;
  }
  assert.equal(checked, 24);
});

const E = (o: Record<string, string>) => new Map(Object.entries(o));

test("pattern operators strip prefixes and suffixes, shortest and longest", () => {
  const lex = new ShellLex("\\");
  const cases: [string, Record<string, string>, string][] = [
    ["${FOO#()[]{\\}^$.\\*\\?|\\\\}", { FOO: "()[]{}^$.*?|\\x" }, "x"],
    ["${FOO%%\\**}", { FOO: "xx**" }, "xx"],
    ["${FOO#*x*y}", { FOO: "xxyy" }, "y"],
    ["${FOO#*}", { FOO: "xxyy" }, "xxyy"],
    ["${FOO##*x}", { FOO: "xxyy" }, "yy"],
    ["${FOO#$BAR}", { FOO: "xxyy", BAR: "x" }, "xyy"],
    ["${FOO#?\\?}", { FOO: "???y" }, "?y"],
    ["${FOO%%\\**\\*}", { FOO: "a***yy*" }, "a"],
    ["${FOO%y*}", { FOO: "xxyy" }, "xxy"],
    ["${FOO%%y*}", { FOO: "xxyy" }, "xx"],
    ["${FOO%.*}", { FOO: "app.tar.gz" }, "app.tar"],
    ["${FOO%%.*}", { FOO: "app.tar.gz" }, "app"],
    ["${ABC:-.}${FOO%x}${ABC:-.}", { FOO: "xxyy" }, ".xxyy."],
    ["${FOO/$NEEDLE/.} - ${FOO//$NEEDLE/.}", { FOO: "/foo*/*/*.txt", NEEDLE: "\\*/" }, "/foo.*/*.txt - /foo..*.txt"],
    ["${FOO/$NEEDLE/} - ${FOO//$NEEDLE/}", { FOO: "/tmp/tmp/bar.txt", NEEDLE: "/tmp" }, "/tmp/bar.txt - /bar.txt"],
    ["${FOO/$N/$R} - ${FOO//$N/$R}", { FOO: "/a/foo/b/c.txt", N: "/?/", R: "/" }, "/foo/b/c.txt - /foo/c.txt"],
    ["${FOO//\\//\\/}", { FOO: "/tmp/foo.txt" }, "\\/tmp\\/foo.txt"],
    ["${FOO/$BAR/ww}", { FOO: "xxyy", BAR: "" }, "wwxxyy"],
    ["${FOO///}", { FOO: "xxyy" }, "xxyy"],
    ["${FOO//*/z}", { FOO: "abc" }, "z"],
    ["${FOO//x/$$}", { FOO: "axbx" }, "ab"],
    ["${FOO//x/$R}", { FOO: "axbx", R: "$$" }, "a$b$"],
    ["${FOO//x/$R}", { FOO: "axbx", R: "<$0|${0}|$1>" }, "a<x|x|>b<x|x|>"],
    ["${FOO/x/$R}", { FOO: "axbx", R: "<$0>" }, "a<$0>bx"],
  ];
  for (const [input, env, expected] of cases) assert.equal(lex.processWord(input, E(env)), expected, input);
});

test("unsupported forms and bad patterns are errors with shell/* codes", () => {
  const lex = new ShellLex("\\");
  const env = E({ FOO: "xxyy" });
  const errors: [string, string][] = [
    ["${FOO//ww}", "shell/syntax"],
    ["${FOO//}", "shell/syntax"],
    ["${FOO=aaa}", "shell/unsupported-modifier"],
    ["${FOO=:aaa}", "shell/unsupported-modifier"],
    ["${FOO:#x}", "shell/unsupported-modifier"],
    ["${FOO:%x}", "shell/unsupported-modifier"],
    ["${FOO#\\x}", "shell/bad-pattern"],
    ["${}", "shell/syntax"],
    ["${FOO", "shell/syntax"],
  ];
  for (const [input, code] of errors) {
    assert.throws(() => lex.processWord(input, env), (e: unknown) => e instanceof ShellExpansionError && e.code === code, input);
  }
});

test("${V?msg} errors name the variable and carry the expanded message", () => {
  const lex = new ShellLex("\\");
  const word = "${VAR:?message here$ARG}";
  assert.equal(lex.processWord(word, E({ VAR: "plain", ARG: "x" })), "plain");
  for (const env of [E({ VAR: "", ARG: "x" }), E({ ARG: "x" })]) {
    assert.throws(() => lex.processWord(word, env), (e: unknown) =>
      e instanceof ShellExpansionError && e.code === "shell/required-variable" && e.message.includes("VAR: message herex"));
  }
  assert.equal(lex.processWord("${VAR?m}", E({ VAR: "" })), "");
  assert.throws(() => lex.processWord("${VAR?}", E({})), /VAR: is not allowed to be unset/);
  assert.throws(() => lex.processWord("${VAR:?}", E({ VAR: "" })), /VAR: is not allowed to be empty/);
});

test("processWordWithMatches reports found and unset names", () => {
  const lex = new ShellLex("\\");
  const r = lex.processWordWithMatches("${FOO:-aaa} ${BAR:-bbb} ${BAZ:-ccc} $FOO", E({ FOO: "xxx", BAR: "" }));
  assert.equal(r.result, "xxx bbb ccc xxx");
  assert.deepEqual([...r.matched].sort(), ["BAR", "FOO"]);
  assert.deepEqual([...r.unmatched], ["BAZ"]);
  const release = "something-${VERSION}.${TARGETOS}-${TARGETARCH}${TARGETVARIANT:+-${TARGETVARIANT}}.tar.gz";
  const base = { VERSION: "v1.2.3", TARGETOS: "linux" };
  assert.equal(lex.processWord(release, E({ ...base, TARGETARCH: "arm", TARGETVARIANT: "v7" })), "something-v1.2.3.linux-arm-v7.tar.gz");
  assert.equal(lex.processWord(release, E({ ...base, TARGETARCH: "arm64", TARGETVARIANT: "" })), "something-v1.2.3.linux-arm64.tar.gz");
  assert.equal(lex.processWord(release, E({ ...base, TARGETARCH: "arm64" })), "something-v1.2.3.linux-arm64.tar.gz");
});

test("the backtick escape token escapes like backslash does by default", () => {
  const lex = new ShellLex("`");
  const env = E({ X: "v" });
  assert.equal(lex.processWord("a`$X", env), "a$X");
  assert.equal(lex.processWord("C:\\dir\\$X", env), "C:\\dir\\v");
  assert.equal(lex.processWord('"q`"x"', env), 'q"x');
  assert.deepEqual(lex.processWords("a` b c", env), ["a b", "c"]);
});

test("skipUnsetEnv and rawQuotes keep unset references and quotes as written", () => {
  const lex = new ShellLex("\\");
  lex.skipUnsetEnv = true;
  lex.rawQuotes = true;
  assert.equal(lex.processWord("echo $A ${B} ${C:-d} '$X' \"$Y\" $S", E({ S: "set" })), "echo $A ${B} ${C:-d} '$X' \"$Y\" set");
});
