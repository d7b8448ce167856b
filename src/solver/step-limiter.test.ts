import { test } from "node:test";
import assert from "node:assert/strict";
import { setTimeout as sleep } from "node:timers/promises";
import { fixedLimiter, idleAwareLimiter, type StepLimiter } from "./step-limiter.js";

/** Runs `n` steps that each wait `ms` (using no CPU) and returns the most that ran at once. */
async function peakOf(limiter: StepLimiter, n: number, ms: number): Promise<number> {
  let active = 0;
  let peak = 0;
  await Promise.all(
    Array.from({ length: n }, () =>
      limiter.run(async () => {
        peak = Math.max(peak, ++active);
        await sleep(ms);
        active--;
      }),
    ),
  );
  limiter.close();
  return peak;
}

test("a fixed limiter never runs more than it was given, however idle the machine", async () => {
  assert.equal(await peakOf(fixedLimiter(2), 6, 40), 2);
  assert.equal(await peakOf(fixedLimiter(0), 3, 10), 1, "0 still runs steps, one at a time");
});

test("while steps wait and CPUs sit idle, the idle-aware limiter admits more than the CPU count", async () => {
  const peak = await peakOf(idleAwareLimiter({ base: 2, idleCpus: () => 2, intervalMs: 15 }), 6, 300);
  assert.equal(peak, 6);
});

test("busy CPUs, or CPUs it cannot measure, keep the idle-aware limiter at its base", async () => {
  assert.equal(await peakOf(idleAwareLimiter({ base: 2, idleCpus: () => 0.5, intervalMs: 10 }), 5, 80), 2);
  assert.equal(await peakOf(idleAwareLimiter({ base: 2, idleCpus: () => undefined, intervalMs: 10 }), 5, 80), 2);
});

test("the idle-aware limiter stops at its maximum", async () => {
  assert.equal(await peakOf(idleAwareLimiter({ base: 1, max: 3, idleCpus: () => 16, intervalMs: 10 }), 8, 100), 3);
});

test("extra slots leave with the steps that used them: once the CPUs are busy again, the base holds", async () => {
  let idle = 8;
  const limiter = idleAwareLimiter({ base: 1, idleCpus: () => idle, intervalMs: 10 });
  let active = 0;
  let peak = 0;
  const step = (ms: number) =>
    limiter.run(async () => {
      peak = Math.max(peak, ++active);
      await sleep(ms);
      active--;
    });
  await Promise.all([step(150), step(150), step(150), step(150)]);
  assert.equal(peak, 4, "all four admitted while idle");
  idle = 0;
  peak = 0;
  await Promise.all([step(60), step(60), step(60)]);
  limiter.close();
  assert.equal(peak, 1);
});

test("the CPUs are looked at only while steps wait", async () => {
  let looks = 0;
  const limiter = idleAwareLimiter({ base: 1, idleCpus: () => (looks++, 0), intervalMs: 10 });
  await Promise.all([limiter.run(() => sleep(60)), limiter.run(() => sleep(60))]);
  const afterQueue = looks;
  assert.ok(afterQueue > 1, "looked while the second step waited");
  await limiter.run(() => sleep(80)); // nothing waits behind it
  assert.ok(looks <= afterQueue + 1, `looked ${looks - afterQueue} more times with nothing waiting`);
  limiter.close();
});
