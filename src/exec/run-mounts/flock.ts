/**
 * Cross-process locks with flock(1): a child `flock` holds the lock while its `cat` waits on a
 * pipe from us. Closing the pipe (release, or this process dying) ends the child and the kernel
 * drops the lock, so a crashed build never leaves a stale lock behind.
 */
import { spawn } from "../../internal/lazy-node.js";
import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type { Readable, Writable } from "node:stream";
import { CancelledError, TsbuildError } from "../../errors/index.js";

export interface FileLock {
  release(): Promise<void>;
}

/**
 * Takes an exclusive lock on `path` (created if missing). With `wait: false` resolves undefined
 * at once when another holder has it; otherwise waits until it is free or `signal` fires.
 */
export function lockFile(path: string, opts: { wait: boolean; signal?: AbortSignal }): Promise<FileLock | undefined> {
  mkdirSync(dirname(path), { recursive: true });
  const args = [...(opts.wait ? [] : ["-n"]), "-x", path, "sh", "-c", "echo locked; exec cat >/dev/null"];
  return new Promise((resolve, reject) => {
    if (opts.signal?.aborted) return reject(new CancelledError());
    const child = spawn("flock", args, { stdio: ["pipe", "pipe", "pipe"] });
    const stdin = child.stdin as Writable & { unref?: () => void };
    stdin.on("error", () => {});
    let locked = false;
    let stderr = "";
    const onAbort = () => child.kill("SIGKILL");
    opts.signal?.addEventListener("abort", onAbort, { once: true });
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.stdout.on("data", () => {
      if (locked) return;
      locked = true;
      opts.signal?.removeEventListener("abort", onAbort);
      // Do not keep this process alive just for the lock holder.
      child.unref();
      for (const s of [stdin, child.stdout, child.stderr] as (Writable | Readable)[]) (s as unknown as { unref?: () => void }).unref?.();
      const exited = new Promise<void>((r) => child.once("close", () => r()));
      resolve({
        release: async () => {
          child.ref(); // wait for the holder to go, so the lock is free when this resolves
          stdin.end();
          await exited;
        },
      });
    });
    child.on("error", (err) => reject(new TsbuildError("run-mount/lock-failed", `locking ${path}: ${err.message}`, { cause: err })));
    child.on("close", (code) => {
      if (locked) return;
      opts.signal?.removeEventListener("abort", onAbort);
      if (opts.signal?.aborted) reject(new CancelledError());
      else if (code === 1 && !opts.wait) resolve(undefined);
      else reject(new TsbuildError("run-mount/lock-failed", `locking ${path}: flock exited ${code}: ${stderr.trim()}`));
    });
  });
}
