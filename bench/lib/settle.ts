/**
 * Waits for the machine to go idle before a timed run. A builder's run leaves work behind that
 * the next run pays for on a 2-core machine: dockerd and containerd tidy up after BuildKit has
 * returned, buildah removes its working containers, the kernel writes back what they wrote. The
 * profiled touch-only run, which came right after the others, spent 8.7-9 ms in BLAKE3 where an
 * idle machine spends ~3 ms. Every builder's run now starts on an idle machine; the wait is not
 * timed. (Two small-app runs each: touch-only medians 0.072 and 0.079 s with the wait, 0.077 and
 * 0.087 s without, within this machine's noise.)
 */
import { readFileSync } from "node:fs";
import { parseCpuTimes, type CpuTimes } from "../../src/solver/idle-cpus.js";

/** The machine counts as idle when the CPUs were busy less than this share of two windows in a row. */
const BUSY_BELOW = 0.15;
const WINDOW_MS = 100;
/** A machine that never goes idle (other work on it) does not stall the bench. */
const MAX_WAIT_MS = 5000;

export interface Settled {
  /** How long the wait took. */
  waitedMs: number;
  /** False when MAX_WAIT_MS passed first. */
  idle: boolean;
}

export async function settle(): Promise<Settled> {
  const started = performance.now();
  let quiet = 0;
  let before = cpuTimes();
  while (performance.now() - started < MAX_WAIT_MS) {
    await new Promise((r) => setTimeout(r, WINDOW_MS));
    const now = cpuTimes();
    const total = now && before ? now.total - before.total : 0;
    // waiting on I/O counts as busy (the solver's idle-cpus.ts): writeback left behind is waited for too
    const busy = total > 0 ? 1 - (now!.idle - before!.idle) / total : 0;
    before = now;
    quiet = busy < BUSY_BELOW ? quiet + 1 : 0;
    if (quiet >= 2) return { waitedMs: performance.now() - started, idle: true };
  }
  return { waitedMs: performance.now() - started, idle: false };
}

function cpuTimes(): CpuTimes | undefined {
  return parseCpuTimes(readFileSync("/proc/stat", "latin1"));
}
