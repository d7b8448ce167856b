import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { solve, SolveError } from "./solver.js";
import type { Vertex } from "./types.js";
import { CancelledError } from "../errors/index.js";
import type { SolveStatus } from "../progress/types.js";

type R = string;

/** A vertex whose exec concatenates its inputs' results, after an optional wait. */
function vtx(id: string, inputs: string[] = [], opts: { delayMs?: number; calls?: Map<string, number>; fail?: boolean; cached?: boolean } = {}): Vertex<R> {
  return {
    id,
    name: `step ${id}`,
    inputs,
    lookup: opts.cached ? async () => ({ hit: true, result: `cached-${id}` }) : async () => ({ hit: false, reason: `never built ${id}` }),
    async exec(ins, ctx) {
      opts.calls?.set(id, (opts.calls.get(id) ?? 0) + 1);
      if (opts.delayMs) await sleep(opts.delayMs, undefined, { signal: ctx.signal });
      if (opts.fail) throw new Error(`${id} broke`);
      return [...ins, id].join("+");
    },
  };
}

test("inputs run before their consumers and results flow through", async () => {
  const results = await solve([vtx("a"), vtx("b", ["a"]), vtx("c", ["a", "b"])], ["c"]);
  assert.equal(results.get("c"), "a+a+b+c");
});

test("a vertex shared by two consumers runs once, and duplicates by id are merged", async () => {
  const calls = new Map<string, number>();
  const shared = vtx("base", [], { calls, delayMs: 10 });
  await solve([shared, { ...shared }, vtx("x", ["base"], { calls }), vtx("y", ["base"], { calls }), vtx("z", ["x", "y"], { calls })], ["z"]);
  assert.equal(calls.get("base"), 1);
  assert.equal(calls.get("z"), 1);
});

test("vertices the targets do not need never run", async () => {
  const calls = new Map<string, number>();
  await solve([vtx("a", [], { calls }), vtx("unused", [], { calls, fail: true })], ["a"]);
  assert.equal(calls.get("unused"), undefined);
});

test("independent vertices run in parallel up to the limit", async () => {
  let active = 0;
  let peak = 0;
  const make = (id: string): Vertex<R> => ({
    id, name: id, inputs: [],
    async exec() { active++; peak = Math.max(peak, active); await sleep(30); active--; return id; },
  });
  await solve(["a", "b", "c", "d"].map(make), ["a", "b", "c", "d"], { parallelism: 2 });
  assert.equal(peak, 2);
  await solve(["e", "f", "g"].map(make), ["e", "f", "g"], { parallelism: 8 });
  assert.equal(peak, 3);
});

test("a cache hit skips exec and is reported as cached", async () => {
  const calls = new Map<string, number>();
  const events: SolveStatus[] = [];
  const results = await solve([vtx("a", [], { calls, cached: true }), vtx("b", ["a"], { calls })], ["b"], { onProgress: (e) => events.push(e) });
  assert.equal(calls.get("a"), undefined);
  assert.equal(results.get("b"), "cached-a+b");
  assert.ok(events.some((e) => e.vertexes.some((v) => v.digest === "a" && v.cached)));
  const started = events.flatMap((e) => e.vertexes).find((v) => v.digest === "b" && v.started && !v.completed);
  assert.equal(started?.cacheMiss, "never built b");
});

test("the first failure cancels the rest and is the error reported", async () => {
  const events: SolveStatus[] = [];
  const calls = new Map<string, number>();
  const p = solve(
    [vtx("slow", [], { delayMs: 5000, calls }), vtx("bad", [], { delayMs: 20, fail: true }), vtx("after", ["slow"], { calls }), vtx("top", ["after", "bad"])],
    ["top"],
    { onProgress: (e) => events.push(e) },
  );
  const t0 = Date.now();
  await assert.rejects(p, (err: unknown) => err instanceof SolveError && err.vertexId === "bad" && /bad broke/.test(err.message));
  assert.ok(Date.now() - t0 < 4000, "the slow sibling was cancelled, not waited for");
  assert.equal(calls.get("after"), undefined);
  const slowEnd = events.flatMap((e) => e.vertexes).find((v) => v.digest === "slow" && v.error);
  assert.equal(slowEnd?.error, "context canceled");
});

test("an AbortSignal stops running vertices with a CancelledError", async () => {
  const ac = new AbortController();
  const p = solve([vtx("long", [], { delayMs: 5000 })], ["long"], { signal: ac.signal });
  setTimeout(() => ac.abort(), 20);
  await assert.rejects(p, CancelledError);
});

test("cycles and unknown inputs are errors, not hangs", async () => {
  await assert.rejects(solve([vtx("a", ["b"]), vtx("b", ["a"])], ["a"]), /cycle/);
  await assert.rejects(solve([vtx("a", ["ghost"])], ["a"]), /unknown vertex ghost/);
});

test("logs are attributed to their vertex", async () => {
  const events: SolveStatus[] = [];
  const v: Vertex<R> = { id: "l", name: "logger", inputs: [], async exec(_i, ctx) { ctx.log(1, "hello\n"); return "x"; } };
  await solve([v], ["l"], { onProgress: (e) => events.push(e) });
  const log = events.flatMap((e) => e.logs)[0];
  assert.equal(log?.vertex, "l");
  assert.equal(Buffer.from(log!.data).toString(), "hello\n");
});
