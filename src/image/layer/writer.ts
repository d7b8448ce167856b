/**
 * Writes a directory (an overlay upper dir, or a whole snapshot for a first layer) as a layer
 * blob in the content store. One pass: walk → tar → sha256 (diffID) → compress → store.ingest,
 * which hashes the compressed bytes (digest). Tar bytes are coalesced into ≥ 1 MiB chunks before
 * hashing and compressing: small writes into zlib cost more than the compression itself (notes §3).
 */
import { createHash } from "../../internal/lazy-node.js";
import { createReadStream, readFileSync } from "node:fs";
import { Readable } from "node:stream";
import { TsbuildError } from "../../errors/index.js";
import type { Digest } from "../../internal/digest.js";
import type { ContentStore } from "../content-store.js";
import type { Descriptor } from "../types.js";
import { compressor, layerMediaType, type Compression } from "./compression.js";
import { FsUtil } from "./fsutil.js";
import { nativeLayerHash } from "./native-hash.js";
import { planEntries, type EntryContext } from "./tar-entry.js";
import { BLOCK, END_OF_ARCHIVE, encodeHeader } from "./tar-format.js";
import { ReadAhead } from "./read-ahead.js";
import { walkTree, type WalkEntry } from "./walk.js";

export interface WriteLayerOptions {
  store: ContentStore;
  compression?: Compression;
  gzipLevel?: number;
  /** Clamp every mtime to at most this many seconds since the epoch. */
  sourceDateEpoch?: number;
  mediaTypes?: "oci" | "docker";
  /**
   * A running fsutil to ask for xattrs, or how to get one (asked only when xattrs are read: not
   * for a layer the native hasher takes); by default one is started (and stopped) per layer.
   */
  fsutil?: FsUtil | (() => FsUtil);
}

export interface HashPacing {
  /**
   * Called before the walk, every 2,048 walked entries and after each chunk (≥ 1 MiB of tar);
   * the work waits for the promise it returns, if any.
   */
  pace?: () => Promise<void> | undefined;
  /**
   * The caller knows no entry carries an xattr a layer keeps (security.capability, overlay
   * opaque markers): a COPY writes none. The fsutil walk that would find none is skipped, and
   * the native hasher (native-hash.ts, tried first for every layer) need not look for any.
   */
  withoutXattrs?: boolean;
  /** Stops the native hasher's walk; `pace` then decides whether the JavaScript one runs. */
  signal?: AbortSignal;
}

export interface WrittenLayer {
  descriptor: Descriptor;
  diffId: Digest;
  uncompressedSize: number;
}

const BATCH = 1 << 20;
const READ_WHOLE_LIMIT = 4 << 20;

export async function writeLayer(dir: string, opts: WriteLayerOptions): Promise<WrittenLayer> {
  const compression = opts.compression ?? "gzip";
  const mediaType = layerMediaType(compression, opts.mediaTypes ?? "oci");
  const diffHash = createHash("sha256");
  let uncompressedSize = 0;
  const source = await layerTar(dir, opts);
  async function* hashed(): AsyncGenerator<Buffer> {
    for await (const chunk of source) {
      diffHash.update(chunk);
      uncompressedSize += chunk.length;
      yield chunk;
    }
  }
  const tar = Readable.from(hashed(), { objectMode: false });
  const packed = compressor(compression, compression === "zstd" ? undefined : opts.gzipLevel);
  tar.on("error", (err) => packed.destroy(err));
  tar.pipe(packed);
  const { digest, size } = await opts.store.ingest(packed);
  return {
    descriptor: { mediaType, digest, size },
    diffId: `sha256:${diffHash.digest("hex")}`,
    uncompressedSize,
  };
}

/**
 * The diffID and size of the uncompressed layer of `dir`, without storing it: the tar that
 * writeLayer would write (and layerTar produces again, byte for byte, while `dir` is unchanged).
 */
export async function hashLayer(dir: string, opts: Omit<WriteLayerOptions, "store" | "compression" | "gzipLevel"> & HashPacing): Promise<{ diffId: Digest; size: number }> {
  const native = await nativeLayerHash(dir, opts);
  if (native) return native;
  const hash = createHash("sha256");
  let size = 0;
  for await (const chunk of await layerTar(dir, opts)) {
    hash.update(chunk);
    size += chunk.length;
    const wait = opts.pace?.();
    if (wait) await wait;
  }
  return { diffId: `sha256:${hash.digest("hex")}`, size };
}

/** The uncompressed layer tar of `dir` in chunks of at least 1 MiB. */
export async function layerTar(dir: string, opts: Pick<WriteLayerOptions, "sourceDateEpoch" | "fsutil"> & HashPacing): Promise<AsyncGenerator<Buffer>> {
  await opts.pace?.();
  const xattrs = opts.withoutXattrs ? Promise.resolve(new Map<string, Map<string, Buffer>>()) : readXattrs(dir, typeof opts.fsutil === "function" ? opts.fsutil() : opts.fsutil);
  xattrs.catch(() => {}); // awaited below
  // The walk runs while fsutil reads the xattrs; the worker starts reading the files meanwhile.
  const entries: WalkEntry[] = [];
  for (const entry of walkTree(dir)) {
    if (entries.push(entry) % 2048 === 0) await opts.pace?.();
  }
  const readAhead = ReadAhead.start(contentFiles(entries));
  try {
    const ctx: EntryContext = { sourceDateEpoch: opts.sourceDateEpoch, xattrs: await xattrs, inodes: new Map() };
    return tarStream(entries, ctx, readAhead);
  } catch (err) {
    readAhead?.close();
    throw err;
  }
}

/** The files whose contents the tar holds, in order: regular files, once per inode (see planEntries). */
function contentFiles(entries: readonly WalkEntry[]): { path: string; size: number }[] {
  const seen = new Set<string>();
  const out: { path: string; size: number }[] = [];
  for (const { abs, stat } of entries) {
    if (!stat.isFile()) continue;
    if (stat.nlink > 1) {
      const key = `${stat.dev}:${stat.ino}`;
      if (seen.has(key)) continue;
      seen.add(key);
    }
    out.push({ path: abs, size: stat.size });
  }
  return out;
}

/** One fsutil process reads every xattr of the tree. */
async function readXattrs(dir: string, shared?: FsUtil): Promise<Map<string, Map<string, Buffer>>> {
  const fsutil = shared ?? new FsUtil();
  try {
    const out = new Map<string, Map<string, Buffer>>();
    for (const r of await fsutil.lxattrs(dir)) {
      let m = out.get(r.path);
      if (!m) out.set(r.path, (m = new Map()));
      m.set(r.name, r.value);
    }
    return out;
  } finally {
    if (!shared) await fsutil.close();
  }
}

/**
 * The uncompressed tar in chunks of at least BATCH bytes (except the last). Small files come
 * from `readAhead` when it has them, else they are read here.
 */
async function* tarStream(entries: readonly WalkEntry[], ctx: EntryContext, readAhead: ReadAhead | undefined): AsyncGenerator<Buffer> {
  // Everything is copied straight into the chunk: no buffer per file, no concatenation.
  let chunk = Buffer.allocUnsafe(2 * BATCH);
  let pending = 0;
  const reserve = (n: number) => {
    if (pending + n <= chunk.length) return;
    const bigger = Buffer.allocUnsafe(Math.max(2 * chunk.length, pending + n));
    chunk.copy(bigger, 0, 0, pending);
    chunk = bigger;
  };
  const add = (b: Uint8Array) => {
    reserve(b.length);
    chunk.set(b, pending);
    pending += b.length;
  };
  const addPadding = (size: number) => {
    const n = (BLOCK - (size % BLOCK)) % BLOCK;
    reserve(n);
    chunk.fill(0, pending, pending + n);
    pending += n;
  };
  const flush = () => {
    const out = chunk.subarray(0, pending);
    chunk = Buffer.allocUnsafe(2 * BATCH);
    pending = 0;
    return out;
  };
  try {
    for (const entry of entries) {
      for (const { header, contentPath } of planEntries(entry, ctx)) {
        add(encodeHeader(header));
        if (contentPath !== undefined) {
          let read = 0;
          const ahead = readAhead?.take(contentPath);
          if (ahead) {
            read = ahead.length;
            if (read === header.size) add(ahead); // copied now: the slot is reused
          } else if (header.size <= READ_WHOLE_LIMIT) {
            const data = readFileSync(contentPath);
            read = data.length;
            if (read === header.size) add(data);
          } else {
            for await (const chunk of createReadStream(contentPath, { highWaterMark: BATCH })) {
              read += (chunk as Buffer).length;
              if (read > header.size) break;
              add(chunk as Buffer);
              if (pending >= BATCH) yield flush();
            }
          }
          if (read !== header.size) {
            throw new TsbuildError("layer/file-changed", `${contentPath} changed size while the layer was written`);
          }
          addPadding(header.size);
        }
        if (pending >= BATCH) yield flush();
      }
    }
  } finally {
    readAhead?.close();
  }
  add(END_OF_ARCHIVE);
  yield flush();
}
