import { test } from "node:test";
import assert from "node:assert/strict";
import { CACHE_KEY_VERSION, computeCacheKey, type StepDescription } from "./cache-key.js";

const platform = { os: "linux", architecture: "amd64" };
const base: StepDescription = {
  kind: "base",
  ref: "debian:12",
  digest: "sha256:1111111111111111111111111111111111111111111111111111111111111111",
  platform,
};
const run: StepDescription = {
  kind: "run",
  args: ["/bin/sh", "-c", "make all"],
  env: ["PATH=/usr/bin:/bin", "VERSION=1"],
  user: "",
  workdir: "/src",
  network: "default",
  mounts: [
    { type: "cache", target: "/root/.cache", id: "/root/.cache", sharing: "shared", readonly: false },
    { type: "secret", target: "/run/secrets/token", id: "token", required: false },
  ],
};
const copy: StepDescription = {
  kind: "copy",
  isAdd: false,
  dest: "/app/",
  workdir: "/",
  link: false,
  parents: false,
  exclude: [],
  sources: [{ fromKey: null, paths: ["src/"], checksum: "ab".repeat(32) }],
};

test("key format is version 1 and pinned", () => {
  // Changing what enters a key must bump CACHE_KEY_VERSION and these pins together.
  assert.equal(CACHE_KEY_VERSION, 1);
  const k0 = computeCacheKey({ parent: null, step: base });
  const k1 = computeCacheKey({ parent: k0, step: run });
  const k2 = computeCacheKey({ parent: k1, step: copy });
  assert.deepEqual([k0, k1, k2], [
    "659279b63cc6e3217232f1594b883dbfc8afe11d469f2cb2317114a216ac9608",
    "0598e02a4fe222b5b8511fe750c92c4134871c336ec9efff071c8f25ccf10434",
    "1a02ea705610544ea672d673a2300e648f04cb3c59ad2f17a91119a7f210e978",
  ]);
});

test("the base image key ignores the reference name but not digest or platform", () => {
  const k = computeCacheKey({ parent: null, step: base });
  assert.equal(computeCacheKey({ parent: null, step: { ...base, ref: "debian@sha256:1111" } }), k);
  assert.notEqual(computeCacheKey({ parent: null, step: { ...base, digest: "sha256:" + "2".repeat(64) } }), k);
  assert.notEqual(computeCacheKey({ parent: null, step: { ...base, platform: { os: "linux", architecture: "arm64" } } }), k);
});

test("a different parent gives a different key", () => {
  assert.notEqual(computeCacheKey({ parent: "a".repeat(64), step: run }), computeCacheKey({ parent: "b".repeat(64), step: run }));
  assert.notEqual(computeCacheKey({ parent: null, step: run }), computeCacheKey({ parent: "a".repeat(64), step: run }));
});

test("env order does not matter but duplicates resolve last-wins", () => {
  const r = run as Extract<StepDescription, { kind: "run" }>;
  const k = computeCacheKey({ parent: null, step: r });
  assert.equal(computeCacheKey({ parent: null, step: { ...r, env: ["VERSION=1", "PATH=/usr/bin:/bin"] } }), k);
  assert.equal(computeCacheKey({ parent: null, step: { ...r, env: ["VERSION=0", ...r.env] } }), k);
  assert.notEqual(computeCacheKey({ parent: null, step: { ...r, env: [...r.env, "VERSION=0"] } }), k);
  assert.notEqual(computeCacheKey({ parent: null, step: { ...r, env: ["PATH=/usr/bin:/bin", "VERSION=2"] } }), k);
});

test("every RUN input that shapes the result changes the key; mount order does not", () => {
  const r = run as Extract<StepDescription, { kind: "run" }>;
  const k = computeCacheKey({ parent: null, step: r });
  const variants: Extract<StepDescription, { kind: "run" }>[] = [
    { ...r, args: ["/bin/sh", "-c", "make"] },
    { ...r, user: "1000" },
    { ...r, workdir: "/" },
    { ...r, network: "none" },
    { ...r, security: "insecure" },
    { ...r, mounts: [] },
    { ...r, inputs: [{ key: "c".repeat(64) }] },
    { ...r, mounts: [{ type: "bind", target: "/x", fromKey: "d".repeat(64), source: "/", readonly: true }, ...r.mounts] },
    { ...r, mounts: [{ ...r.mounts[0]!, sharing: "locked" } as (typeof r.mounts)[number], r.mounts[1]!] },
  ];
  const keys = new Set([k, ...variants.map((step) => computeCacheKey({ parent: null, step }))]);
  assert.equal(keys.size, variants.length + 1);
  assert.equal(computeCacheKey({ parent: null, step: { ...r, mounts: [...r.mounts].reverse() } }), k);
  assert.equal(computeCacheKey({ parent: null, step: { ...r, security: "sandbox" } }), k);
});

test("a secret enters the key by id only: its value is never part of the description", () => {
  const r = run as Extract<StepDescription, { kind: "run" }>;
  const json = JSON.stringify(r.mounts);
  assert.ok(!json.includes("value"));
  const renamed = { ...r, mounts: [r.mounts[0]!, { type: "secret" as const, target: "/run/secrets/token", id: "other", required: false }] };
  assert.notEqual(computeCacheKey({ parent: null, step: renamed }), computeCacheKey({ parent: null, step: r }));
});

test("COPY keys follow the source checksum, dest, flags and source of each input", () => {
  const c = copy as Extract<StepDescription, { kind: "copy" }>;
  const k = computeCacheKey({ parent: null, step: c });
  const src = c.sources[0]!;
  const variants: Extract<StepDescription, { kind: "copy" }>[] = [
    { ...c, sources: [{ ...src, checksum: "cd".repeat(32) }] },
    { ...c, sources: [{ ...src, fromKey: "e".repeat(64) }] },
    { ...c, sources: [{ ...src, paths: ["src/main.go"] }] },
    { ...c, dest: "/opt/" },
    { ...c, chown: "1000:1000" },
    { ...c, chmod: "0755" },
    { ...c, link: true },
    { ...c, parents: true },
    { ...c, exclude: ["*.md"] },
    { ...c, isAdd: true },
  ];
  const keys = new Set([k, ...variants.map((step) => computeCacheKey({ parent: null, step }))]);
  assert.equal(keys.size, variants.length + 1);
  const ex = { ...c, exclude: ["a", "b"] };
  assert.equal(computeCacheKey({ parent: null, step: ex }), computeCacheKey({ parent: null, step: { ...ex, exclude: ["b", "a"] } }));
});

test("meta keys ignore config key order", () => {
  const a = computeCacheKey({ parent: "f".repeat(64), step: { kind: "meta", config: { Env: ["A=1"], Labels: { x: "1", y: "2" } } } });
  const b = computeCacheKey({ parent: "f".repeat(64), step: { kind: "meta", config: { Labels: { y: "2", x: "1" }, Env: ["A=1"] } } });
  assert.equal(a, b);
  assert.match(a, /^[0-9a-f]{64}$/);
});
