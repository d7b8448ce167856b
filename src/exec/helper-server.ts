/**
 * The helper in server mode (native/README.md, "Server mode"): one long-lived helper process
 * forks a sandbox per request, so a RUN costs tsbuild a pipe write instead of a fork+exec of the
 * helper (fork of a large Node process: ~1 ms on the main thread, ~3 ms until the helper runs).
 * Output and events of every run come back multiplexed on fd 4 as `u8 kind, u32 run, u32 len`
 * frames. The server dies with tsbuild (PDEATHSIG), and every sandbox with the server.
 */
import type { ChildProcess } from "node:child_process";
import { spawn } from "../internal/lazy-node.js";
import { constants } from "node:os";
import type { Readable, Writable } from "node:stream";
import { HELPER_PROTOCOL_VERSION, parseEvent, type HelperEvent } from "./protocol.js";
import type { RunIo } from "./types.js";

/** Output frame kinds (helper → tsbuild). */
const OUT = { stdout: 1, stderr: 2, events: 3, done: 4 } as const;

export interface ServedRun {
  /** All events of the run, in order. */
  events: HelperEvent[];
  /** The outer helper's wait status, or undefined when the server itself failed. */
  status?: { code: number | null; signal: NodeJS.Signals | null };
  /** Set when the server process failed or exited while the run was in flight. */
  serverError?: Error;
}

interface Pending {
  /** The server process the run was sent to. */
  server: ChildProcess;
  io: RunIo;
  warn: (message: string) => void;
  events: HelperEvent[];
  partial: string;
  done: (r: ServedRun) => void;
}

export class HelperServer {
  private child: ChildProcess | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** Servers close() detached while they had runs: their input ends after their last run. */
  private readonly closing = new Set<ChildProcess>();

  constructor(private readonly helperPath: string) {}

  /** Sends `frame` (an encoded "TSBR" request) as run; resolves when the run's outer has ended. */
  run(frame: Buffer, io: RunIo, warn: (message: string) => void): { id: number; result: Promise<ServedRun> } {
    const child = this.ensure();
    const id = this.nextId++;
    const result = new Promise<ServedRun>((done) => this.pending.set(id, { server: child, io, warn, events: [], partial: "", done }));
    setRef(child, true);
    this.send(child, "R", id, frame);
    return { id, result };
  }

  /**
   * Ends the server's input: it exits once its runs are done. Resolves when it has exited (at
   * most `maxWaitMs`), or at once while runs are in flight.
   */
  close(maxWaitMs = 1000): Promise<void> {
    const child = this.child;
    if (!child) return Promise.resolve();
    this.child = undefined;
    if (this.runsOn(child) > 0) {
      this.closing.add(child); // still takes K frames for its runs
      return Promise.resolve();
    }
    (child.stdio[3] as Writable).end();
    if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, maxWaitMs);
      child.once("close", () => {
        clearTimeout(timer);
        resolve();
      });
      setRef(child, true);
    });
  }

  /** SIGKILLs the run's outer helper; its PID namespace dies with it. */
  kill(id: number): void {
    const p = this.pending.get(id);
    if (p) this.send(p.server, "K", id, Buffer.alloc(0));
  }

  private runsOn(server: ChildProcess): number {
    let n = 0;
    for (const p of this.pending.values()) if (p.server === server) n++;
    return n;
  }

  private send(child: ChildProcess, op: "R" | "K", id: number, payload: Buffer): void {
    const head = Buffer.alloc(9);
    head.write(op, 0, "ascii");
    head.writeUInt32LE(id, 1);
    head.writeUInt32LE(payload.length, 5);
    (child.stdio[3] as Writable).write(payload.length ? Buffer.concat([head, payload]) : head);
  }

  private ensure(): ChildProcess {
    if (this.child) return this.child;
    const child = spawn(this.helperPath, [], { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"], env: {} });
    this.child = child;
    const hello = Buffer.alloc(12);
    hello.write("TSBS", 0, "ascii");
    hello.writeUInt32LE(HELPER_PROTOCOL_VERSION, 4);
    const input = child.stdio[3] as Writable;
    input.on("error", () => {}); // reported through the exit below
    input.write(hello);
    let stderr = "";
    (child.stderr as Readable).on("data", (c: Buffer) => (stderr = (stderr + c.toString()).slice(-2000)));
    let inbuf: Buffer = Buffer.alloc(0); // one per server: an old one may still be finishing runs
    (child.stdio[4] as Readable).on("data", (chunk: Buffer) => (inbuf = this.onData(inbuf, chunk)));
    let spawnError: Error | undefined;
    child.on("error", (err) => (spawnError = err));
    child.on("close", (code, sig) => {
      if (this.child === child) this.child = undefined;
      this.closing.delete(child);
      const how = spawnError ? spawnError.message : sig ? `was killed by ${sig}` : `exited with status ${code}`;
      const err = Object.assign(new Error(`the sandbox helper server ${how}${stderr ? `: ${stderr.trim()}` : ""}`), { spawnError });
      for (const [id, p] of this.pending) {
        if (p.server !== child) continue;
        this.pending.delete(id);
        p.done({ events: p.events, serverError: err });
      }
    });
    setRef(child, false);
    return child;
  }

  /** Handles the complete frames in `buf` + `chunk`; returns the incomplete rest. */
  private onData(buf: Buffer, chunk: Buffer): Buffer {
    const data = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    let off = 0;
    while (data.length - off >= 9) {
      const kind = data[off]!;
      const id = data.readUInt32LE(off + 1);
      const len = data.readUInt32LE(off + 5);
      if (data.length - off - 9 < len) break;
      const payload = data.subarray(off + 9, off + 9 + len);
      off += 9 + len;
      this.onFrame(kind, id, payload);
    }
    return off === data.length ? Buffer.alloc(0) : data.subarray(off);
  }

  private onFrame(kind: number, id: number, payload: Buffer): void {
    const p = this.pending.get(id);
    if (!p) return;
    switch (kind) {
      case OUT.stdout:
        return p.io.stdout?.(Buffer.from(payload));
      case OUT.stderr:
        return p.io.stderr?.(Buffer.from(payload));
      case OUT.events: {
        const lines = (p.partial + payload.toString("utf8")).split("\n");
        p.partial = lines.pop() ?? "";
        for (const line of lines) this.onEvent(p, line);
        return;
      }
      case OUT.done: {
        if (p.partial) this.onEvent(p, p.partial);
        this.pending.delete(id);
        if (this.runsOn(p.server) === 0) {
          setRef(p.server, false);
          if (this.closing.delete(p.server)) (p.server.stdio[3] as Writable).end();
        }
        return p.done({ events: p.events, status: decodeStatus(payload.readUInt32LE(0)) });
      }
    }
  }

  private onEvent(p: Pending, line: string): void {
    const ev = parseEvent(line);
    if (!ev) return;
    if (ev.kind === "warning") p.warn(ev.message);
    else p.events.push(ev);
  }
}

/** A server keeps the event loop alive only while it has runs in flight. */
function setRef(child: ChildProcess, on: boolean): void {
  for (const s of [child, child.stdio[2], child.stdio[3], child.stdio[4]] as Array<{ ref?: () => void; unref?: () => void } | null>) {
    if (on) s?.ref?.();
    else s?.unref?.();
  }
}

/** A wait(2) status as Node reports a child's exit. */
function decodeStatus(raw: number): { code: number | null; signal: NodeJS.Signals | null } {
  const sig = raw & 0x7f;
  if (sig === 0) return { code: (raw >> 8) & 0xff, signal: null };
  const name = (Object.keys(constants.signals) as NodeJS.Signals[]).find((k) => constants.signals[k] === sig) ?? null;
  return { code: null, signal: name };
}
