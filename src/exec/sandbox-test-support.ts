/**
 * Shared pieces of the executor tests: an overlay root over the busybox rootfs in a temp dir,
 * a run that collects output, and scans for leftover sandbox processes and mounts.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { busyboxMissing, sharedBusyboxRootfs } from "../../test/support/rootfs.js";
import { findHelper } from "./helper-path.js";
import type { Executor, ExitResult, Mount, ProcessSpec, RunRequest } from "./types.js";

/** Why the sandbox tests cannot run here, or undefined. */
export function sandboxUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return "needs root (namespaces and overlay mounts)";
  try {
    findHelper();
  } catch (e) {
    return (e as Error).message;
  }
  return busyboxMissing();
}

/** A fresh overlay root: lower = the shared busybox rootfs (or `lower`), upper/work in a new temp dir. */
export function overlayRoot(lower = sharedBusyboxRootfs()): { root: Mount; dir: string; upper: string; lower: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-exec-test-"));
  mkdirSync(join(dir, "upper"));
  mkdirSync(join(dir, "work"));
  const root: Mount = { type: "overlay", source: "overlay", target: "/", options: [`lowerdir=${lower}`, "upperdir=upper", "workdir=work"], cwd: dir };
  return { root, dir, upper: join(dir, "upper"), lower, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export const DEFAULT_SPEC: ProcessSpec = {
  args: ["true"],
  env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
  cwd: "/",
  user: "root",
  hostname: "tsbuild-test",
  network: "none",
};

export interface Ran extends ExitResult {
  stdout: string;
  stderr: string;
}

/** Runs `script` with `sh -c` (or `spec.args` when given) in a fresh overlay root. */
export async function runSh(
  executor: Executor,
  script: string | undefined,
  opts: { spec?: Partial<ProcessSpec>; req?: Partial<RunRequest>; stdin?: Uint8Array; signal?: AbortSignal; root?: Mount } = {},
): Promise<Ran> {
  const own = opts.root ? undefined : overlayRoot();
  let stdout = "";
  let stderr = "";
  try {
    const spec = { ...DEFAULT_SPEC, ...(script === undefined ? {} : { args: ["sh", "-c", script] }), ...opts.spec };
    const req: RunRequest = { root: opts.root ?? own!.root, mounts: [], spec, ...opts.req };
    const r = await executor.run(
      req,
      { stdout: (c) => (stdout += c.toString()), stderr: (c) => (stderr += c.toString()), ...(opts.stdin ? { stdin: opts.stdin } : {}) },
      opts.signal,
    );
    return { ...r, stdout, stderr };
  } finally {
    own?.cleanup();
  }
}

/** Pids whose command line or environment contains `marker`. */
export function processesWith(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    for (const file of ["cmdline", "environ"]) {
      try {
        if (readFileSync(`/proc/${name}/${file}`).includes(marker)) found.push(Number(name));
      } catch {
        // the process ended while we looked
      }
    }
  }
  return [...new Set(found)];
}

/** Mount points in this (host) mount namespace at or under `dir`. */
export function mountsUnder(dir: string): string[] {
  return readFileSync("/proc/self/mountinfo", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[4] ?? "")
    .filter((p) => p === dir || p.startsWith(dir + "/"));
}

/** Waits (polling, bounded) until no process carries `marker`; returns the survivors. */
export async function waitForNoProcesses(marker: string, maxMs = 10_000): Promise<number[]> {
  const until = Date.now() + maxMs;
  let left = processesWith(marker);
  while (left.length > 0 && Date.now() < until) {
    await new Promise((r) => setTimeout(r, 50));
    left = processesWith(marker);
  }
  return left;
}

