import pLimit from "p-limit";
import type { IdleCpus } from "./idle-cpus.js";

/** Runs steps with a bound on how many execute at once. */
export interface StepLimiter {
  run<T>(step: () => Promise<T>): Promise<T>;
  /** Stops watching the CPUs (steps already queued still run). */
  close(): void;
}

/** Exactly `n` steps at once: what an explicit `--parallelism n` asks for. */
export function fixedLimiter(n: number): StepLimiter {
  const limit = pLimit(Math.max(1, n));
  return { run: (step) => limit(step), close() {} };
}

export interface IdleAwareOptions {
  /** Steps always allowed at once: the CPU count. */
  base: number;
  /** Measures idle CPUs; undefined readings admit nothing beyond `base`. */
  idleCpus: IdleCpus;
  /** How often the CPUs are looked at while steps wait (default 50 ms). */
  intervalMs?: number;
  /** Never more than this many at once. Default 4 × base. */
  max?: number;
}

/**
 * `base` steps at once, and more while steps wait and the CPUs sit idle: steps that sleep, wait on
 * the network or on a lock leave the CPUs they were counted against unused (four independent
 * `RUN sleep 2` stages on two CPUs would otherwise take two rounds, where BuildKit, which has no
 * limit by default, takes one). Each look admits one waiting step per whole idle CPU seen since the
 * last look; a step that finishes while the limit is above `base` takes its extra slot with it.
 */
export function idleAwareLimiter(opts: IdleAwareOptions): StepLimiter {
  const base = Math.max(1, opts.base);
  const max = Math.max(base, opts.max ?? 4 * base);
  const limit = pLimit(base);
  let timer: NodeJS.Timeout | undefined;

  const stopWatching = (): void => {
    if (timer) clearInterval(timer);
    timer = undefined;
  };
  const look = (): void => {
    const idle = opts.idleCpus();
    if (limit.pendingCount === 0) return stopWatching();
    if (idle === undefined) return;
    // 0.75 of a CPU counts as one: ticks are coarse (10 ms) and the steps' own start-up is not idle
    const admit = Math.min(Math.floor(idle + 0.25), limit.pendingCount, max - limit.concurrency);
    if (admit > 0) limit.concurrency += admit;
  };
  const watch = (): void => {
    if (timer || limit.pendingCount === 0 || limit.concurrency >= max) return;
    opts.idleCpus(); // the starting point
    timer = setInterval(look, opts.intervalMs ?? 50);
    timer.unref(); // the steps keep the process alive, not the watching
  };

  return {
    run<T>(step: () => Promise<T>): Promise<T> {
      const p = limit(async () => {
        try {
          return await step();
        } finally {
          if (limit.concurrency > base) limit.concurrency -= 1;
        }
      });
      watch();
      return p;
    },
    close: stopWatching,
  };
}
