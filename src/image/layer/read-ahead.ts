/**
 * Reading the small files of a layer ahead of the tar writer, on a worker thread. Hashing the
 * layer of a 25k-file COPY spent ~40 % of the main thread in open, read and close, while the
 * machine's second core idled; here a worker reads the files, in tar order, into a ring of
 * shared-memory slots, and the writer takes each file's bytes from its slot.
 *
 * The worker runs `readFiles` from its source text (it uses nothing but its parameters), so it
 * works the same from the bundled CLI and from the TypeScript sources.
 */
import * as fs from "node:fs";
import { availableParallelism } from "node:os";
import type { Worker } from "node:worker_threads";
import { newWorker } from "../../internal/lazy-node.js";

/** Files in flight, and the largest file a slot holds (bigger ones the writer reads itself). */
const SLOTS = 128;
const SLOT = 64 << 10;
/**
 * Below this many files the worker is not started: its start-up costs ~30 ms of CPU, and the
 * small-app bench's 1,000-file layer measured 20 ms slower with it (0.25 -> 0.27 s cold build).
 */
const MIN_FILES = 2048;

/**
 * Control words: files the worker has read (or skipped) so far; files whose slots the writer
 * has released; files the writer has claimed (taken, or read itself because the worker was
 * behind: the worker skips those); 1 once the writer stops; then each slot's length.
 */
const READ = 0;
const TAKEN = 1;
const CLAIMED = 2;
const STOP = 3;
const LENGTHS = 4;

export class ReadAhead {
  private readonly control: Int32Array;
  private readonly data: Buffer;
  private next = 0;

  private constructor(
    private readonly paths: readonly string[],
    private readonly worker: Worker,
    control: SharedArrayBuffer,
    data: SharedArrayBuffer,
  ) {
    this.control = new Int32Array(control);
    this.data = Buffer.from(data);
  }

  /** Starts reading `files` (in the order they will be taken); undefined when not worth a thread. */
  static start(files: readonly { path: string; size: number }[]): ReadAhead | undefined {
    if (files.length < MIN_FILES || availableParallelism() < 2) return undefined;
    const control = new SharedArrayBuffer(4 * (LENGTHS + SLOTS));
    const data = new SharedArrayBuffer(SLOTS * SLOT);
    const paths = files.map((f) => f.path);
    // Shared memory is posted without a copy; cloning 25k paths cost the main thread ~40 ms.
    const text = paths.join("\0");
    const shared = { text: new SharedArrayBuffer(Buffer.byteLength(text)), sizes: new SharedArrayBuffer(8 * files.length) };
    Buffer.from(shared.text).write(text);
    new Float64Array(shared.sizes).set(files.map((f) => f.size));
    const worker = newWorker(WORKER_SOURCE, { eval: true, execArgv: [], workerData: { ...shared, control, data } });
    worker.unref();
    worker.on("error", () => {}); // the writer sees no progress and reads the files itself
    return new ReadAhead(paths, worker, control, data);
  }

  /**
   * The bytes of `path` as one read of up to size + 1 bytes found them (a view into the slot,
   * valid until the next take), or undefined when the caller must read it itself: not the next
   * file in the list, too big for a slot, the read failed (the caller's read reports why), or
   * the worker has not got to it yet (the writer never waits for the worker).
   */
  take(path: string): Buffer | undefined {
    if (this.paths[this.next] !== path) return undefined;
    const i = this.next++;
    Atomics.store(this.control, TAKEN, i); // the slot of file i - 1 is free again
    Atomics.notify(this.control, TAKEN);
    if (Atomics.load(this.control, READ) <= i) {
      Atomics.store(this.control, CLAIMED, i + 1);
      return undefined;
    }
    const length = this.control[LENGTHS + (i % SLOTS)]!;
    if (length < 0) return undefined;
    const offset = (i % SLOTS) * SLOT;
    return this.data.subarray(offset, offset + length);
  }

  /** Stops the worker (whether or not every file was taken). */
  close(): void {
    Atomics.store(this.control, STOP, 1);
    Atomics.notify(this.control, TAKEN);
    void this.worker.terminate();
  }
}

/**
 * The worker's loop: file i goes into slot i % slots once the writer has released file i - slots,
 * unless the writer has claimed it already. A slot's length is what one read of size + 1 bytes
 * returned (a short read of a regular file is its end), or -1 when the writer must read the file
 * itself. Control words by number: READ 0, TAKEN 1, CLAIMED 2, STOP 3, LENGTHS from 4.
 */
function readFiles(fsm: typeof fs, paths: readonly string[], sizes: Float64Array, control: Int32Array, data: Buffer, slots: number, slot: number): void {
  for (let i = 0; i < paths.length; i++) {
    for (let taken; i - (taken = Atomics.load(control, 1)) >= slots; ) {
      if (Atomics.load(control, 3) === 1) return;
      Atomics.wait(control, 1, taken, 1000);
    }
    if (Atomics.load(control, 3) === 1) return;
    const size = sizes[i]!;
    let length = -1;
    if (size < slot && Atomics.load(control, 2) <= i) {
      let fd = -1;
      try {
        fd = fsm.openSync(paths[i]!, "r");
        length = fsm.readSync(fd, data, (i % slots) * slot, size + 1, null);
      } catch {
        length = -1;
      } finally {
        if (fd >= 0) fsm.closeSync(fd);
      }
    }
    control[4 + (i % slots)] = length;
    Atomics.store(control, 0, i + 1);
  }
}

const WORKER_SOURCE = `
const fs = require("node:fs");
const { workerData } = require("node:worker_threads");
const { text, sizes, control, data } = workerData;
const paths = Buffer.from(text).toString().split("\\0");
(${readFiles.toString()})(fs, paths, new Float64Array(sizes), new Int32Array(control), Buffer.from(data), ${SLOTS}, ${SLOT});
`;
