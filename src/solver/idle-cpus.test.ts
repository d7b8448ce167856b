import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { idleCpusFrom, parseCpuTimes } from "./idle-cpus.js";

/** /proc/stat as Linux writes it: the aggregate line, one per CPU, then other counters. */
function stat(fields: number[], cpus: number): string {
  const per = Array.from({ length: cpus }, (_, i) => `cpu${i} ${fields.map((f) => Math.floor(f / cpus)).join(" ")}`);
  return [`cpu  ${fields.join(" ")}`, ...per, "intr 12345 0 0", "ctxt 999", "btime 1700000000", "procs_running 2"].join("\n") + "\n";
}

test("parses the aggregate cpu line, leaving guest time out of the total (it is in user already)", () => {
  //            user nice system idle iowait irq softirq steal guest guest_nice
  const t = parseCpuTimes(stat([100, 5, 50, 800, 20, 1, 2, 3, 40, 7], 2));
  assert.deepEqual(t, { idle: 800, total: 100 + 5 + 50 + 800 + 20 + 1 + 2 + 3, cpus: 2 });
  assert.equal(parseCpuTimes("intr 1 2 3\n"), undefined);
});

test("idle CPUs are the idle share of the ticks between two readings, times the CPU count", () => {
  const readings = [
    stat([100, 0, 100, 1000, 0, 0, 0, 0], 4),
    stat([100, 0, 100, 1300, 0, 0, 0, 0], 4), // 300 of 300 ticks idle: all 4 CPUs
    stat([400, 0, 100, 1300, 0, 0, 0, 0], 4), // 0 of 300 idle
    stat([450, 0, 150, 1400, 100, 0, 0, 0], 4), // 100 of 300 idle; the 100 waiting on I/O are not
  ];
  const idle = idleCpusFrom(() => readings.shift()!);
  assert.equal(idle(), undefined, "the first reading only sets the starting point");
  assert.equal(idle(), 4);
  assert.equal(idle(), 0);
  assert.ok(Math.abs(idle()! - 4 / 3) < 1e-9);
});

test("an unreadable or unparsable /proc/stat reads as unknown, not as idle", () => {
  const idle = idleCpusFrom(() => {
    throw new Error("ENOENT");
  });
  assert.equal(idle(), undefined);
  assert.equal(idle(), undefined);
  const garbage = idleCpusFrom(() => "cpu  x y z\n");
  garbage();
  assert.equal(garbage(), undefined);
});

test("the real /proc/stat gives a reading between 0 and the CPU count", { skip: process.platform !== "linux" }, async () => {
  const idle = idleCpusFrom();
  idle();
  await new Promise((r) => setTimeout(r, 120));
  const n = idle();
  assert.ok(n !== undefined && n >= 0 && n <= (parseCpuTimes(readFileSync("/proc/stat", "latin1"))?.cpus ?? 0), `got ${n}`);
});

