/**
 * gzip on every core, as pigz does it: the input is cut into 1 MiB blocks, each block is deflated
 * on its own (zlib's thread pool runs several at once) with the previous block's last 32 KiB as its
 * dictionary, and every block but the last ends in a sync flush, so the blocks join into one
 * ordinary deflate stream inside one gzip member (header, blocks, CRC-32, length). Any gzip reader
 * reads it; the bytes depend only on the input and the level, so layers stay reproducible.
 *
 * Why: a layer export spends its time in gzip, one core of two here; the bench's 300 MB layer took
 * 2.6 s to export with Node's single zlib stream (see the commit adding this for the figures now).
 */
import { availableParallelism } from "node:os";
import { Transform, type TransformCallback } from "node:stream";
import { lazyZlib as zlib } from "../../internal/lazy-node.js";

const BLOCK = 1 << 20;
const WINDOW = 32 << 10;

function deflateBlock(block: Buffer, dictionary: Buffer | undefined, level: number, last: boolean): Promise<Buffer> {
  const z = zlib();
  return new Promise((resolve, reject) =>
    z.deflateRaw(
      block,
      { level, ...(dictionary ? { dictionary } : {}), finishFlush: last ? z.constants.Z_FINISH : z.constants.Z_SYNC_FLUSH },
      (err, out) => (err ? reject(err) : resolve(out)),
    ),
  );
}

/**
 * A gzip stream of `level` that deflates on every core. The class is made on first use: defining
 * it at load would load node:stream, which a build that compresses nothing never needs (the CLI
 * loads it lazily, scripts/bundle-cli.mjs).
 */
export function parallelGzip(level: number): Transform {
  return new (parallelGzipClass ??= defineParallelGzip())(level);
}

let parallelGzipClass: ReturnType<typeof defineParallelGzip> | undefined;

function defineParallelGzip() {
  return class ParallelGzip extends Transform {
    private readonly inFlight: Promise<Buffer>[] = [];
    /** Two blocks per core: with one, a core idles while the next block is being filled. */
    private readonly maxInFlight = 2 * availableParallelism();
    private block: Buffer = Buffer.allocUnsafe(BLOCK);
    private filled = 0;
    /** The last WINDOW bytes of the block before the current one. */
    private previousTail: Buffer | undefined;
    private crc = 0;
    private length = 0;

    constructor(private readonly level: number) {
      super();
      // zlib's header for deflate with this level: no name, no mtime, OS "Unix" (as createGzip writes it).
      const xfl = level === 9 ? 2 : level < 2 ? 4 : 0;
      this.push(Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3]));
    }

    override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
      this.addInput(chunk).then(() => done(), done);
    }

    override _flush(done: TransformCallback): void {
      this.finish().then(() => done(), done);
    }

    private async addInput(chunk: Buffer): Promise<void> {
      for (let at = 0; at < chunk.length; ) {
        const n = Math.min(BLOCK - this.filled, chunk.length - at);
        chunk.copy(this.block, this.filled, at, at + n);
        this.filled += n;
        at += n;
        if (this.filled === BLOCK) await this.dispatch(false);
      }
    }

    /** Sends the current block to the thread pool; waits for the oldest block once enough are out. */
    private async dispatch(last: boolean): Promise<void> {
      const block = this.block.subarray(0, this.filled);
      this.crc = zlib().crc32(block, this.crc);
      this.length += block.length;
      this.inFlight.push(deflateBlock(block, this.previousTail, this.level, last));
      this.previousTail = block.length >= WINDOW ? block.subarray(block.length - WINDOW) : undefined;
      this.block = Buffer.allocUnsafe(BLOCK);
      this.filled = 0;
      while (this.inFlight.length >= (last ? 1 : this.maxInFlight)) this.push(await this.inFlight.shift()!);
    }

    private async finish(): Promise<void> {
      await this.dispatch(true); // possibly empty: it still ends the deflate stream
      const trailer = Buffer.alloc(8);
      trailer.writeUInt32LE(this.crc >>> 0, 0);
      trailer.writeUInt32LE(this.length % 2 ** 32, 4);
      this.push(trailer);
    }
  }
}
