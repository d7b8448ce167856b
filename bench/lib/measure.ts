/**
 * Whole-process measurement: each timed command runs under GNU time (`%U %S %M`), which reports
 * user and system CPU of the process and its reaped children, and the peak RSS of the largest of
 * them. Wall time is the bench's own clock from spawning GNU time to its exit (ms resolution; GNU
 * time's `%e` has only 10 ms, too coarse for 0.05-0.1 s rebuilds; the ~1 ms GNU time adds is the
 * same for every builder). For a daemon (dockerd) the caller adds the daemon's CPU delta separately.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ChildSampler, type ChildCpu } from "./children.js";

export interface Sample {
  wallS: number;
  cpuS: number;
  /** Peak RSS in MiB of the measured process tree's largest process (client only for BuildKit). */
  rssMiB: number;
  /** CPU seconds a daemon spent during the run (BuildKit: dockerd and the RUN processes it reaped). */
  daemonCpuS?: number;
}

export interface RunResult extends Sample {
  code: number;
  stdout: string;
  stderr: string;
  /** CPU by child command, when sampled. */
  children?: ChildCpu[];
}

export async function timed(cmd: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutS?: number; sampleChildren?: boolean } = {}): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-bench-time-"));
  const out = join(dir, "time");
  try {
    const started = performance.now();
    const child = spawn("/usr/bin/time", ["-f", "%e %U %S %M", "-o", out, "--", ...cmd], {
      env: opts.env ?? process.env,
      cwd: opts.cwd,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const sampler = opts.sampleChildren && child.pid ? new ChildSampler(child.pid) : undefined;
    sampler?.start();
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout = (stdout + d.toString()).slice(-20000)));
    child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20000)));
    const timer = setTimeout(() => child.kill("SIGKILL"), (opts.timeoutS ?? 1800) * 1000);
    let wallS = 0;
    child.on("exit", () => (wallS = (performance.now() - started) / 1000));
    const code = await new Promise<number>((res) => child.on("close", (c) => res(c ?? 1)));
    clearTimeout(timer);
    const children = sampler?.stop();
    const lines = readFileSync(out, "utf8").trim().split("\n");
    const last = lines[lines.length - 1]!.split(" ").map(Number);
    const [, u, s, m] = last as [number, number, number, number];
    return { code, stdout, stderr, wallS, cpuS: u + s, rssMiB: m / 1024, ...(children ? { children } : {}) };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Runs a command untimed; throws with its output when it fails (unless `allowFail`). */
export async function sh(cmd: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; allowFail?: boolean; input?: string } = {}): Promise<{ code: number; out: string }> {
  const child = spawn(cmd[0]!, cmd.slice(1), { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ["pipe", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  child.stderr.on("data", (d: Buffer) => (out = (out + d.toString()).slice(-20000)));
  child.stdin.end(opts.input ?? "");
  const code = await new Promise<number>((res) => {
    child.on("error", () => res(127));
    child.on("close", (c) => res(c ?? 1));
  });
  if (code !== 0 && !opts.allowFail) throw new Error(`${cmd.join(" ")} failed (${code}):\n${out.slice(-3000)}`);
  return { code, out };
}

/** utime+stime+cutime+cstime of a process in seconds, from /proc/PID/stat. */
export function procCpuS(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields after ")": state(0) … utime(11) stime(12) cutime(13) cstime(14)
    return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
  } catch {
    return 0;
  }
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
