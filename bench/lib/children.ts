/**
 * Where a process tree's CPU goes: polls /proc every `intervalMs` for the descendants of a pid and
 * keeps each one's last seen own CPU (utime+stime) and command, then sums them by command. Short
 * processes between two polls are missed (their CPU still shows in the parent's cutime), so the
 * process counts are lower bounds.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename } from "node:path";

export interface ChildCpu {
  command: string;
  processes: number;
  cpuS: number;
}

function stat(pid: string): { ppid: number; cpu: number } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = s.slice(s.lastIndexOf(")") + 2).split(" ");
    return { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / 100 };
  } catch {
    return undefined;
  }
}

function command(pid: string): string {
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    const exe = basename(argv[0] ?? "?");
    // name node scripts and helper modes by their first argument too
    return exe === "node" || exe.startsWith("tsbuild-") ? `${exe} ${basename(argv[1] ?? "")}`.trim() : exe;
  } catch {
    return "?";
  }
}

export class ChildSampler {
  private readonly seen = new Map<string, { command: string; cpu: number }>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly root: number, private readonly intervalMs = 100) {}

  start(): void {
    this.timer = setInterval(() => this.poll(), this.intervalMs);
  }

  private poll(): void {
    const parent = new Map<string, number>();
    const cpu = new Map<string, number>();
    for (const pid of readdirSync("/proc")) {
      if (!/^\d+$/.test(pid)) continue;
      const s = stat(pid);
      if (!s) continue;
      parent.set(pid, s.ppid);
      cpu.set(pid, s.cpu);
    }
    for (const [pid, ppid] of parent) {
      let p: number | undefined = ppid;
      let depth = 0;
      while (p !== undefined && p > 1 && p !== this.root && depth++ < 30) p = parent.get(String(p));
      if (p !== this.root && Number(pid) !== this.root) continue;
      const prev = this.seen.get(pid);
      this.seen.set(pid, { command: prev?.command ?? command(pid), cpu: cpu.get(pid) ?? 0 });
    }
  }

  stop(): ChildCpu[] {
    if (this.timer) clearInterval(this.timer);
    const by = new Map<string, ChildCpu>();
    for (const { command, cpu } of this.seen.values()) {
      const e = by.get(command) ?? { command, processes: 0, cpuS: 0 };
      e.processes++;
      e.cpuS += cpu;
      by.set(command, e);
    }
    return [...by.values()].sort((a, b) => b.cpuS - a.cpuS);
  }
}
