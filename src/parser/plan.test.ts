import { test } from "node:test";
import assert from "node:assert/strict";
import { LocatedError } from "../errors/index.js";
import { parseDockerfile } from "./dockerfile.js";
import { planBuild } from "./plan.js";
import { StageScope } from "./scope.js";

const amd64 = { os: "linux", architecture: "amd64" };
const df = (text: string) => parseDockerfile(text, { file: "Dockerfile" });
const plan = (text: string, opts = {}) => planBuild(df(text), { platform: amd64, ...opts });

test("global ARGs resolve FROM with build-arg overrides; unneeded stages are pruned and never expanded", () => {
  const p = plan("ARG IMG=alpine\nARG V=3\nFROM ${IMG}:$V AS a\nFROM ${NOPE:?unset} AS broken\nFROM a\n", {
    buildArgs: { V: "3.20", X: "1" },
  });
  assert.deepEqual(p.stages.map((s) => [s.index, s.base]), [
    [0, { kind: "image", ref: "alpine:3.20" }],
    [2, { kind: "stage", index: 0 }],
  ]);
  assert.deepEqual(p.unusedBuildArgs, ["X"]);
  assert.throws(() => plan("FROM ${NOPE:?unset} AS broken\n"), LocatedError);
});

test("COPY --from and --mount from= add edges; unknown names are images; numbers are indexes", () => {
  const p = plan("FROM a AS one\nFROM b AS two\nFROM c\nCOPY --from=ONE /x /y\nCOPY --from=nginx:latest /a /b\nRUN --mount=from=1,target=/t true\n");
  assert.deepEqual(p.edges, [
    { from: 0, to: 2, kind: "copy" },
    { from: 1, to: 2, kind: "mount" },
  ]);
  assert.deepEqual(p.stages.map((s) => s.index), [0, 1, 2]);
  assert.deepEqual(p.stages[2]!.dependsOn, [0, 1]);
});

test("targets, cycles, empty bases and bad indexes are located errors", () => {
  const cases: [string, object, RegExp, number][] = [
    ["FROM a AS x\n", { target: "y" }, /failed to reach build target y/, 1],
    ["FROM a AS x\nCOPY --from=y /a /b\nFROM b AS y\nCOPY --from=x /a /b\n", { target: "x" }, /circular dependency/, 4],
    ["FROM a AS x\nCOPY --from=x /a /b\n", {}, /circular dependency/, 2],
    ["ARG E\nFROM $E\n", {}, /base name \(\$E\) should not be blank/, 2],
    ["FROM a\nCOPY --from=7 /a /b\n", {}, /invalid stage index 7/, 2],
  ];
  for (const [text, opts, re, line] of cases) {
    assert.throws(() => plan(text, opts), (e: unknown) => e instanceof LocatedError && re.test(e.message) && e.location.line === line, text);
  }
});

test("FROM names only earlier stages: `FROM node AS node` is the image", () => {
  const p = plan("FROM node AS node\n");
  assert.deepEqual(p.stages[0]!.base, { kind: "image", ref: "node" });
});

test("platform ARGs are meta args and --platform is expanded", () => {
  const p = plan("FROM --platform=$BUILDPLATFORM img:$TARGETARCH\n", { platform: { os: "linux", architecture: "arm64" } });
  assert.equal(p.stages[0]!.base.kind === "image" && p.stages[0]!.base.ref, "img:arm64");
  assert.match(p.stages[0]!.platform!, /^linux\//);
});

test("StageScope: ARG redeclaration, defaults, ENV wins, proxies, used build args", () => {
  const d = df("ARG G=global\nFROM a\nARG G\nARG D=def-$G\nENV D=env E=$D\nARG B\nRUN x\n");
  const scope = new StageScope({
    escapeToken: "\\",
    buildArgs: new Map([["B", "from-cli"], ["http_proxy", "http://p"]]),
    metaArgs: new Map([["G", "global"]]),
  });
  for (const ins of d.stages[0]!.instructions) scope.apply(ins);
  assert.equal(scope.expand("$G/$D/$B"), "global/env/from-cli");
  assert.equal(scope.env.get("E"), "def-global");
  assert.deepEqual([...scope.usedBuildArgs], ["B"]);
  assert.deepEqual(Object.fromEntries(scope.runEnv()), { D: "env", E: "def-global", G: "global", B: "from-cli", http_proxy: "http://p" });
  assert.deepEqual(scope.historyArgs(), [["G", "global"], ["D", "def-global"], ["B", "from-cli"]]);
  assert.deepEqual(scope.expandWords("a $D 'b c'"), ["a", "env", "b c"]);
});

test("an undeclared global ARG is invisible inside a stage", () => {
  const d = df("ARG G=global\nFROM a\nRUN x\n");
  const scope = new StageScope({ escapeToken: "\\", buildArgs: new Map(), metaArgs: new Map([["G", "global"]]) });
  for (const ins of d.stages[0]!.instructions) scope.apply(ins);
  assert.equal(scope.expand("[$G]"), "[]");
});
