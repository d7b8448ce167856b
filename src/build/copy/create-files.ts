/**
 * Creating many new regular files at once, on two cores. A cold COPY of a big context is mostly
 * kernel time in the exclusive create of each destination file (ext4 inode allocation), one file
 * at a time on Node's main thread while the second core idles. Here the main thread and one
 * worker thread take chunks of the same job list (a shared counter) and each runs the same
 * synchronous loop: create, copy, owner, mode, times, close.
 *
 * The worker runs `runCreateJobs` from its source text (it uses nothing but its parameters), so
 * it works the same from the bundled CLI and from the TypeScript sources.
 */
import type * as NodeFs from "node:fs";
import { createRequire } from "node:module";
import { availableParallelism } from "node:os";
import type { Worker } from "node:worker_threads";
import { newWorker } from "../../internal/lazy-node.js";
import { blake3Binding } from "../../cache/hash.js";

/** One file to create; `dst` must not exist yet (else the job fails with EEXIST). */
export interface CreateJob {
  src: string;
  dst: string;
  /** Permission bits for open(2) (the umask applies). */
  perm: number;
  /** The source's size when selected: small files are copied by one read of size + 1 bytes. */
  size: number;
  /** fchown to this owner, or -1 to keep the creator's. */
  uid: number;
  gid: number;
  /** fchmod to this mode after the owner, or -1 when creation already gave it. */
  mode: number;
  /** Seconds since the epoch (fractional), for futimes. */
  atime: number;
  mtime: number;
}

/** A failed job: its index and what the system call said (Node's error fields). */
export interface JobFailure {
  index: number;
  code: string;
  message: string;
  errno: number;
  syscall: string;
  path: string;
}

/**
 * Below this many files the worker is not asked: its start-up costs ~30 ms of CPU, and the
 * small-app bench's cold COPY of 1,000 files measured no faster with it.
 */
const MIN_PARALLEL = 2048;
/** Jobs taken per grab: neighbours share a directory, whose lock creation takes. */
const CHUNK = 8;
/** Files up to this size are copied by one read and one write. */
const SMALL_FILE = 1 << 20;

/**
 * With `contentDigests`, each thread also hashes the bytes it copies (BLAKE3, the context
 * checksum's content digest): 32 bytes per job at `DIGEST_BYTES * index`, and a 1 at `index`
 * of `done` when the digest is there (a failed job has none).
 */
export interface ContentDigests {
  digests: Uint8Array;
  done: Uint8Array;
}

export const DIGEST_BYTES = 32;

/** Shared memory for the content digests of `count` jobs. */
export function contentDigestsFor(count: number): ContentDigests {
  const buf = new SharedArrayBuffer(count * (DIGEST_BYTES + 1));
  return { digests: new Uint8Array(buf, 0, count * DIGEST_BYTES), done: new Uint8Array(buf, count * DIGEST_BYTES, count) };
}

/**
 * Runs every job. Failures do not stop the others; they are returned, ordered by index, for the
 * caller to handle (EEXIST: something is in the way) or throw.
 */
export async function createFiles(jobs: readonly CreateJob[], contentDigests?: ContentDigests): Promise<JobFailure[]> {
  const shared = new Int32Array(new SharedArrayBuffer(8));
  const srcs = jobs.map((j) => j.src);
  const dsts = jobs.map((j) => j.dst);
  const nums = new Float64Array(jobs.length * FIELDS);
  for (let i = 0, o = 0; i < jobs.length; i++, o += FIELDS) {
    const j = jobs[i]!;
    nums[o] = j.perm;
    nums[o + 1] = j.size;
    nums[o + 2] = j.uid;
    nums[o + 3] = j.gid;
    nums[o + 4] = j.mode;
    nums[o + 5] = j.atime;
    nums[o + 6] = j.mtime;
  }
  const helper = jobs.length >= MIN_PARALLEL ? CreatePool.get() : undefined;
  const helped = helper?.start(shareJobs(srcs, dsts, nums), shared, contentDigests);
  const failures = runCreateJobs(nodeFs(), srcs, dsts, nums, shared, (scratch ??= Buffer.allocUnsafe(SMALL_FILE + 1)), CHUNK, SMALL_FILE, contentDigests && { ...contentDigests, blake: blake3Binding });
  if (helped) {
    // Claim the batch back if the worker has not begun it; otherwise wait for its share.
    if (Atomics.compareExchange(shared, 1, 0, 2) === 1) failures.push(...(await helped.done));
    else helper!.forget(helped.id);
  }
  return failures.sort((a, b) => a.index - b.index);
}

/**
 * Starts the helper worker ahead of a batch of `count` files (if it would be asked): it boots
 * (~30 ms of its own thread) while the caller creates directories and plans the jobs, instead
 * of after the main thread has begun the batch alone.
 */
export function warmUpCreateFiles(count: number): void {
  if (count >= MIN_PARALLEL) CreatePool.get();
}

/**
 * The jobs in shared memory: source and destination paths as NUL-separated UTF-8, and the
 * numbers (FIELDS per job). Posting them copies nothing; structured-cloning 25k paths cost the
 * main thread 70 ms (large-context COPY profile).
 */
interface SharedJobs {
  paths: SharedArrayBuffer;
  nums: SharedArrayBuffer;
}

const FIELDS = 7;

function shareJobs(srcs: readonly string[], dsts: readonly string[], nums: Float64Array): SharedJobs {
  const text = srcs.join("\0") + "\0" + dsts.join("\0");
  const paths = new SharedArrayBuffer(Buffer.byteLength(text));
  Buffer.from(paths).write(text);
  const shared = new SharedArrayBuffer(nums.byteLength);
  new Float64Array(shared).set(nums);
  return { paths, nums: shared };
}

/** The main thread's copy buffer, made on the first copy (not at every start-up). */
let scratch: Buffer | undefined;

/** What runCreateJobs needs to hash contents: where the digests go, and BLAKE3. */
interface DigestSink extends ContentDigests {
  blake: Pick<typeof blake3Binding, "blake3" | "Blake3Hasher">;
}

/**
 * node:fs as a module object (runCreateJobs takes it as a parameter: a worker runs the same
 * function). Not `import * as fs`: the bundle would copy all ~100 exports at every start.
 */
let fsModule: typeof NodeFs | undefined;
function nodeFs(): typeof NodeFs {
  return (fsModule ??= createRequire(import.meta.url)("node:fs") as typeof NodeFs);
}

/**
 * The loop both threads run: takes CHUNK jobs at a time from `shared[0]` until none are left.
 * `shared[1]` is 0 until a worker begins (1) or the main thread has closed the batch (2). Only
 * parameters and globals are used here: the worker gets this function as source text.
 */
function runCreateJobs(fsm: typeof NodeFs, srcs: readonly string[], dsts: readonly string[], n: Float64Array, shared: Int32Array, scratch: Buffer, chunk: number, smallFile: number, sink: DigestSink | undefined): JobFailure[] {
  const failures: JobFailure[] = [];
  const create = fsm.constants.O_WRONLY | fsm.constants.O_CREAT | fsm.constants.O_EXCL;
  for (;;) {
    const first = Atomics.add(shared, 0, chunk);
    if (first >= srcs.length) break;
    const end = Math.min(first + chunk, srcs.length);
    for (let i = first; i < end; i++) {
      const o = i * 7; // FIELDS
      const size = n[o + 1]!;
      let out = -1;
      try {
        out = fsm.openSync(dsts[i]!, create, n[o]!);
        const input = fsm.openSync(srcs[i]!, "r");
        let digest: Buffer | undefined;
        let hasher: InstanceType<DigestSink["blake"]["Blake3Hasher"]> | undefined;
        try {
          const want = size < smallFile ? size + 1 : smallFile;
          for (;;) {
            const got = fsm.readSync(input, scratch, 0, want, null);
            if (got === 0) break;
            for (let off = 0; off < got; ) off += fsm.writeSync(out, scratch, off, got - off);
            const end = got < want && size < smallFile; // short read of a regular file: end of file
            if (sink) {
              if (end && !hasher) digest = sink.blake.blake3(scratch.subarray(0, got)); // the whole file in one read
              else (hasher ??= new sink.blake.Blake3Hasher()).update(scratch.subarray(0, got));
            }
            if (end) break;
          }
        } finally {
          fsm.closeSync(input);
        }
        if (sink) {
          sink.digests.set(digest ?? (hasher ? hasher.digestBuffer() : sink.blake.blake3(scratch.subarray(0, 0))), i * 32); // DIGEST_BYTES
          sink.done[i] = 1;
        }
        if (n[o + 2]! >= 0) fsm.fchownSync(out, n[o + 2]!, n[o + 3]!);
        // chown clears set-id bits, so the mode comes after it.
        if (n[o + 4]! >= 0) fsm.fchmodSync(out, n[o + 4]!);
        fsm.futimesSync(out, n[o + 5]!, n[o + 6]!);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        failures.push({ index: i, code: e.code ?? "", message: e.message, errno: e.errno ?? 0, syscall: e.syscall ?? "", path: e.path ?? "" });
      } finally {
        if (out >= 0) fsm.closeSync(out);
      }
    }
  }
  return failures;
}

/** The failure as the error the synchronous call would have thrown. */
export function failureError(f: JobFailure): NodeJS.ErrnoException {
  const err: NodeJS.ErrnoException = new Error(f.message);
  Object.assign(err, { code: f.code, errno: f.errno, syscall: f.syscall, path: f.path });
  return err;
}

const WORKER_SOURCE = `
const fs = require("node:fs");
const { parentPort } = require("node:worker_threads");
const run = ${runCreateJobs.toString()};
const scratch = Buffer.allocUnsafe(${SMALL_FILE + 1});
let blake;
parentPort.on("message", ({ id, jobs, shared, digests, blakePath }) => {
  // Begin the batch unless the main thread has closed it already.
  if (Atomics.compareExchange(shared, 1, 0, 1) !== 0) return parentPort.postMessage({ id, failures: [] });
  const paths = Buffer.from(jobs.paths).toString().split("\\0");
  const count = paths.length / 2;
  const sink = digests && { ...digests, blake: (blake ??= require(blakePath)) };
  const failures = run(fs, paths.slice(0, count), paths.slice(count), new Float64Array(jobs.nums), shared, scratch, ${CHUNK}, ${SMALL_FILE}, sink);
  parentPort.postMessage({ id, failures });
});
`;

/**
 * The helper worker, started for a batch and stopped once no batch needs it: kept idle, its heap
 * (the last batch's paths) stayed in the build's peak RSS (large-context cold: ~10 MB).
 */
class CreatePool {
  private static instance: CreatePool | undefined | null;
  private readonly worker: Worker;
  private readonly waiting = new Map<number, { resolve: (f: JobFailure[]) => void; reject: (e: Error) => void }>();
  private nextId = 0;
  private broken: Error | undefined;
  private stopping = false;

  /** The pool, or undefined on a single core or after a worker failed. */
  static get(): CreatePool | undefined {
    if (CreatePool.instance === undefined) CreatePool.instance = availableParallelism() > 1 ? new CreatePool() : null;
    return CreatePool.instance ?? undefined;
  }

  private constructor() {
    this.worker = newWorker(WORKER_SOURCE, { eval: true, execArgv: [] });
    this.worker.on("message", ({ id, failures }: { id: number; failures: JobFailure[] }) => {
      this.waiting.get(id)?.resolve(failures);
      this.forget(id);
    });
    const fail = (err: Error) => {
      if (this.stopping) return;
      this.broken = err;
      CreatePool.instance = null;
      for (const w of this.waiting.values()) w.reject(err);
      this.waiting.clear();
    };
    this.worker.on("error", fail);
    this.worker.on("exit", (code) => fail(new Error(`copy worker exited with code ${code}`)));
    // After the listeners: adding a "message" listener refs the worker again, and an idle worker
    // (started ahead by warmUpCreateFiles, never given a batch) must not keep the process alive.
    this.worker.unref();
  }

  /** Posts a batch; `done` resolves with the worker's failures once it has finished its share. */
  start(jobs: SharedJobs, shared: Int32Array, digests?: ContentDigests): { id: number; done: Promise<JobFailure[]> } | undefined {
    if (this.broken) return undefined;
    const id = this.nextId++;
    const done = new Promise<JobFailure[]>((resolve, reject) => this.waiting.set(id, { resolve, reject }));
    this.worker.ref();
    this.worker.postMessage({ id, jobs, shared, ...(digests ? { digests, blakePath: blake3Binding.path } : {}) });
    return { id, done };
  }

  /** A batch answered, or one the main thread did alone (its answer is not awaited). */
  forget(id: number): void {
    this.waiting.delete(id);
    if (this.waiting.size > 0) return;
    this.stopping = true;
    if (CreatePool.instance === this) CreatePool.instance = undefined;
    void this.worker.terminate();
  }
}
