import { spawn } from "../internal/lazy-node.js";
import type { Readable, Writable } from "node:stream";
import { CancelledError } from "../errors/index.js";
import { HelperError } from "./errors.js";
import { findHelper } from "./helper-path.js";
import { HelperServer, type ServedRun } from "./helper-server.js";
import { encodeRequest, parseEvent, type HelperEvent } from "./protocol.js";
import type { Executor, ExitResult, RunIo, RunRequest } from "./types.js";

export interface HelperExecutorOptions {
  /** The helper binary; default from `TSBUILD_HELPER_PATH` or the package's native/build. */
  helperPath?: string;
  /**
   * Receives the helper's warnings (e.g. resource limits that cannot be applied). By default
   * each distinct warning is printed once per executor with process.emitWarning.
   */
  onWarning?: (message: string) => void;
}

/**
 * An Executor that runs each request in a fresh sandbox made by native/helper.c. The helper is
 * located when this is called (throws HelperError `exec/helper-missing` if it is not built).
 * Aborting SIGKILLs the helper: its PID namespace dies with it and the run rejects with
 * CancelledError once every sandbox process has closed its output.
 */
export function createHelperExecutor(opts: HelperExecutorOptions = {}): Executor {
  const helperPath = findHelper(opts.helperPath);
  const seen = new Set<string>();
  const warn =
    opts.onWarning ??
    ((message: string) => {
      if (seen.has(message)) return;
      seen.add(message);
      process.emitWarning(message, { code: "TSBUILD_SANDBOX" });
    });
  let server: HelperServer | undefined;
  return {
    run(req, io, signal) {
      if (signal?.aborted) return Promise.reject(new CancelledError("RUN cancelled before it started"));
      const call: RunCall = { helperPath, req, io, warn, ...(signal ? { signal } : {}) };
      // Runs with stdin bytes take a helper of their own (the server has no stdin relay).
      if (io.stdin) return runInHelper(call);
      server ??= new HelperServer(helperPath);
      return runServed(server, call);
    },
    close: async () => server?.close(),
  };
}

/** One RUN as the executor hands it to either way of running it. */
interface RunCall {
  helperPath: string;
  req: RunRequest;
  io: RunIo;
  warn: (message: string) => void;
  signal?: AbortSignal;
}

async function runServed(server: HelperServer, { helperPath, req, io, warn, signal }: RunCall): Promise<ExitResult> {
  const { id, result } = server.run(encodeRequest(req), io, warn);
  let aborted = false;
  const onAbort = (): void => {
    aborted = true;
    server.kill(id);
  };
  signal?.addEventListener("abort", onAbort, { once: true });
  let served: ServedRun;
  try {
    served = await result;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
  if (aborted) throw new CancelledError("RUN cancelled");
  if (served.serverError) {
    const code = (served.serverError as { spawnError?: Error }).spawnError ? "exec/helper-missing" : "exec/helper-setup";
    const what = code === "exec/helper-missing" ? `starting the sandbox helper ${helperPath}: ` : "";
    throw new HelperError(code, what + served.serverError.message, { cause: served.serverError });
  }
  return exitResult(served.events, served.status?.code ?? null, served.status?.signal ?? null);
}

/** The run's result from its events (the helper's own exit status only explains a missing one). */
function exitResult(events: HelperEvent[], code: number | null, sig: string | null): ExitResult {
  const error = events.find((e) => e.kind === "error");
  if (error?.kind === "error") throw new HelperError(error.code, error.message, { errno: error.errno ?? 0 });
  const exit = events.find((e) => e.kind === "exit");
  if (exit?.kind === "exit") {
    const oom = events.some((e) => e.kind === "oom") ? { oomKilled: true as const } : {};
    return exit.signal !== undefined ? { exitCode: null, signal: exit.signal, ...oom } : { exitCode: exit.exitCode ?? 0, signal: null, ...oom };
  }
  const how = sig ? `was killed by ${sig}` : `exited with status ${code}`;
  throw new HelperError("exec/helper-setup", `the sandbox helper ${how} without reporting a result`);
}

function runInHelper({ helperPath, req, io, warn, signal }: RunCall): Promise<ExitResult> {
  const frame = encodeRequest(req);
  return new Promise<ExitResult>((resolve, reject) => {
    const child = spawn(helperPath, [], {
      stdio: [io.stdin ? "pipe" : "ignore", "pipe", "pipe", "pipe", "pipe"],
      env: {},
    });
    const events: HelperEvent[] = [];
    let spawnError: Error | undefined;
    let aborted = false;
    const onAbort = (): void => {
      aborted = true;
      child.kill("SIGKILL");
    };
    signal?.addEventListener("abort", onAbort, { once: true });

    (child.stdout as Readable).on("data", (chunk: Buffer) => io.stdout?.(chunk));
    (child.stderr as Readable).on("data", (chunk: Buffer) => io.stderr?.(chunk));
    readLines(child.stdio[4] as Readable, (line) => {
      const ev = parseEvent(line);
      if (!ev) return;
      if (ev.kind === "warning") warn(ev.message);
      else events.push(ev);
    });
    const request = child.stdio[3] as Writable;
    request.on("error", () => {}); // the helper may exit before reading everything; reported below
    request.end(frame);
    if (io.stdin && child.stdin) {
      child.stdin.on("error", () => {}); // EPIPE when the command does not read its stdin
      child.stdin.end(Buffer.from(io.stdin));
    }
    child.on("error", (err) => (spawnError = err));
    child.on("close", (code, sig) => {
      signal?.removeEventListener("abort", onAbort);
      if (aborted) return reject(new CancelledError("RUN cancelled"));
      if (spawnError) {
        return reject(new HelperError("exec/helper-missing", `starting the sandbox helper ${helperPath}: ${spawnError.message}`, { cause: spawnError }));
      }
      try {
        resolve(exitResult(events, code, sig));
      } catch (err) {
        reject(err);
      }
    });
  });
}

/** Calls `onLine` for each complete line of a stream. */
function readLines(stream: Readable, onLine: (line: string) => void): void {
  let buf = "";
  stream.setEncoding("utf8");
  stream.on("data", (s: string) => {
    buf += s;
    let i: number;
    while ((i = buf.indexOf("\n")) >= 0) {
      onLine(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
  stream.on("end", () => {
    if (buf) onLine(buf);
  });
}
