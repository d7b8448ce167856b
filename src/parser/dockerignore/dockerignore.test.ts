import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { compilePatterns, loadDockerignore, readDockerignore, DockerignorePatternError, filepathMatch, cleanPath } from "./index.js";
import { compilePattern } from "./pattern.js";

interface Case {
  id: string;
  kind: "match" | "parse" | "ignorefile" | "compile";
  api?: "Matches" | "MatchesOrParentMatches";
  patterns?: string[];
  path?: string;
  expected?: boolean;
  error?: string;
  patternCount?: number;
  hasExclusions?: boolean;
  content?: string | null;
  expectedPatterns?: string[];
  pattern?: string;
  matchType?: string;
  regexp?: string;
}

const casesFile = fileURLToPath(new URL("../../../fixtures/conformance/dockerignore/cases.json", import.meta.url));
const cases = JSON.parse(readFileSync(casesFile, "utf8")) as Case[];
const byKind = (k: Case["kind"]) => cases.filter((c) => c.kind === k);

const isBadPattern = (e: unknown) => e instanceof DockerignorePatternError && e.code === "dockerignore/bad-pattern";

test("cases.json match: every case, through the plain and the incremental matcher", () => {
  const matchCases = byKind("match");
  assert.equal(matchCases.length, 138);
  for (const c of matchCases) {
    if (c.error) {
      assert.throws(() => compilePatterns(c.patterns!), isBadPattern, c.id);
      continue;
    }
    const m = compilePatterns(c.patterns!);
    if (c.api === "Matches") {
      assert.equal(m.matches(c.path!), c.expected, c.id);
      continue;
    }
    assert.equal(m.matchesOrParentMatches(c.path!), c.expected, c.id);
    // The walker form: from the top-level entry down, handing each level's info to the next.
    const parts = c.path!.split("/");
    let info = undefined;
    let matched = false;
    for (let i = 1; i <= parts.length; i++) {
      const prefix = parts.slice(0, i).join("/");
      const answer = m.matchedUsingParentResults(prefix, info);
      ({ matched, info } = m.matchesUsingParentResults(prefix, info));
      assert.equal(answer, matched, `${c.id}: matchedUsingParentResults agrees at ${prefix}`);
    }
    assert.equal(matched, c.expected, `${c.id} (incremental)`);
    assert.equal(m.matchesUsingParentResults(c.path!).matched, c.expected, `${c.id} (no parent info)`);
  }
});

test("cases.json parse: empty patterns dropped, exclusions found, lone ! rejected", () => {
  for (const c of byKind("parse")) {
    if (c.error) {
      assert.throws(() => compilePatterns(c.patterns!), isBadPattern, c.id);
      continue;
    }
    const m = compilePatterns(c.patterns!);
    if (c.patternCount !== undefined) assert.equal(m.patterns.length, c.patternCount, c.id);
    if (c.hasExclusions !== undefined) assert.equal(m.hasExclusions, c.hasExclusions, c.id);
  }
});

test("cases.json ignorefile: the reader normalises lines as Docker does", () => {
  for (const c of byKind("ignorefile")) {
    assert.deepEqual(c.content === null ? [] : readDockerignore(c.content!), c.expectedPatterns, c.id);
  }
});

test("cases.json compile: match types and expressions agree with upstream", () => {
  for (const c of byKind("compile")) {
    const p = compilePattern(cleanPath(c.pattern!), false);
    assert.equal(p.matchType, c.matchType, c.id);
    if (c.regexp !== undefined) assert.equal(p.goRegexp, c.regexp, c.id);
  }
});

test("the reader strips a BOM, CRLF endings and leading slashes, keeps # inside patterns", () => {
  assert.deepEqual(readDockerignore("\uFEFF# c\r\n/a/../b/\r\n  #x\r\n!/c\r\n\r\n"), ["b", "#x", "!c"]);
});

test("bad-pattern errors name the pattern; a lone ! is illegal", () => {
  assert.throws(() => compilePatterns(["ok", "a["]), (e: unknown) => isBadPattern(e) && /"a\["/.test((e as Error).message));
  assert.throws(() => compilePatterns(["!"]), (e: unknown) => isBadPattern(e) && /illegal exclusion/.test((e as Error).message));
});

test("Docker anchors patterns at the root and * never crosses /", () => {
  assert.equal(compilePatterns(["foo"]).matches("sub/foo"), false);
  assert.equal(compilePatterns(["*.log"]).matches("sub/a.log"), false);
  assert.equal(compilePatterns(["**/*.log"]).matches("sub/a.log"), true);
  assert.equal(compilePatterns(["*", "!sub/keep.txt"]).matches("sub/keep.txt"), false);
  assert.equal(compilePatterns(["foo/"]).matches("foo"), true);
  assert.equal(compilePatterns(["src/g++.c"]).matches("src/g++.c"), true);
  assert.equal(compilePatterns(["a]"]).matches("a]"), true);
  assert.equal(compilePatterns(["a\\-b"]).matches("a-b"), true);
});

test("filepathMatch follows Go's filepath.Match", () => {
  assert.equal(filepathMatch("*.txt", "a.txt"), true);
  assert.equal(filepathMatch("*.txt", "d/a.txt"), false);
  assert.equal(filepathMatch("[a-c]?", "bz"), true);
  assert.equal(filepathMatch("[^a-c]?", "bz"), false);
  assert.equal(filepathMatch("a\\*", "a*"), true);
  assert.equal(filepathMatch("a\\*", "ab"), false);
  assert.throws(() => filepathMatch("[", "x"));
  assert.throws(() => filepathMatch("x[", "y"), "a malformed tail is an error even when the head fails");
});

test("loadDockerignore prefers <Dockerfile>.dockerignore, then the context's, and names the file on errors", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-di-"));
  try {
    assert.deepEqual((await loadDockerignore(dir, "Dockerfile")).patterns, []);
    writeFileSync(join(dir, ".dockerignore"), "node_modules\n*.log\n");
    let r = await loadDockerignore(dir, "Dockerfile");
    assert.deepEqual(r.patterns, ["node_modules", "*.log"]);
    assert.equal(r.file, join(dir, ".dockerignore"));
    assert.equal(r.matcher.matches("node_modules/x/y.js"), true);
    mkdirSync(join(dir, "build"));
    writeFileSync(join(dir, "build", "app.Dockerfile.dockerignore"), "/secret\n");
    r = await loadDockerignore(dir, "build/app.Dockerfile");
    assert.deepEqual(r.patterns, ["secret"]);
    assert.equal(r.file, join(dir, "build", "app.Dockerfile.dockerignore"));
    writeFileSync(join(dir, ".dockerignore"), "ok\n[\n");
    await assert.rejects(loadDockerignore(dir, "Dockerfile"), (e: unknown) =>
      isBadPattern(e) && (e as Error).message.includes(join(dir, ".dockerignore")) && (e as Error).message.includes('"["'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
