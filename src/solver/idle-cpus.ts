import { readFileSync } from "node:fs";

/**
 * How many CPUs sat idle since the previous call (0 up to the CPU count), or undefined when that
 * cannot be known. The first call only sets the starting point.
 */
export type IdleCpus = () => number | undefined;

/** The machine-wide CPU counters of /proc/stat, in clock ticks. */
export interface CpuTimes {
  /** Ticks no CPU had anything to run. Waiting on I/O is not idle: a disk-bound step is busy. */
  idle: number;
  /** All ticks: user, nice, system, idle, iowait, irq, softirq, steal. */
  total: number;
  /** Online CPUs (the `cpuN` lines). */
  cpus: number;
}

/** Reads the aggregate `cpu` line of /proc/stat's text; undefined if it is not there. */
export function parseCpuTimes(stat: string): CpuTimes | undefined {
  const first = /^cpu\s+([\d\s]+)$/m.exec(stat);
  if (!first) return undefined;
  // guest and guest_nice (fields 9 and 10) are already counted in user and nice
  const fields = first[1]!.trim().split(/\s+/).slice(0, 8).map(Number);
  if (fields.length < 4 || fields.some((n) => !Number.isFinite(n))) return undefined;
  const cpus = stat.match(/^cpu\d+\s/gm)?.length ?? 0;
  if (cpus === 0) return undefined;
  return { idle: fields[3]!, total: fields.reduce((a, b) => a + b, 0), cpus };
}

/** Idle CPUs between successive readings of `read()` (by default the kernel's /proc/stat). */
export function idleCpusFrom(read: () => string = () => readFileSync("/proc/stat", "latin1")): IdleCpus {
  let last: CpuTimes | undefined;
  return () => {
    let now: CpuTimes | undefined;
    try {
      now = parseCpuTimes(read());
    } catch {
      now = undefined; // no /proc (another OS, a locked-down container)
    }
    const before = last;
    last = now;
    if (!now || !before || now.total <= before.total) return undefined;
    return ((now.idle - before.idle) / (now.total - before.total)) * now.cpus;
  };
}
