/**
 * The content store: immutable blobs addressed by their sha256 digest, kept at
 * `<dir>/blobs/sha256/<hex>` (the OCI layout shape, so a store can be copied into a layout).
 *
 * Every write goes to a uniquely named temporary file under `<dir>/ingest/`, is hashed while it is
 * written, is checked against the expected digest and size, and only then is renamed into place.
 * rename(2) is atomic, so concurrent writers of the same blob (threads or processes) each produce
 * a complete file and the last rename wins with identical bytes; a blob that already exists is
 * never rewritten.
 *
 * A blob can also be stored lazily: `putLazy` records how to produce it (today: an uncompressed
 * layer tar of a snapshot directory, which the layer writer produces byte for byte again) under
 * `<dir>/lazy/<hex>.json`, and the bytes are written only when something reads them (`readBlob`,
 * `openRead`, or `ensure` before using `blobPath`). The local image store never reads its
 * uncompressed layers, so a build into it does not pay for writing them (large-context bench:
 * 250 MB fewer bytes written per cold build).
 */
import { createHash } from "../internal/lazy-node.js";
import { randomHex } from "../internal/random-hex.js";
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { open, readFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { Readable } from "node:stream";
import { TsbuildError } from "../errors/index.js";
import { digestHex, isDigest, sha256Digest, type Digest } from "../internal/digest.js";
import { listDirOrEmpty } from "../internal/list-dir.js";
import { writeFileAtomic } from "../internal/atomic-write.js";
import { lazyRecipeUsable, produceLazyBlob, type LazyRecipe } from "./lazy-blob.js";

export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** What the caller knows about a blob before writing it; anything given is verified. */
export interface Expected {
  digest?: Digest;
  size?: number;
}

/** Blobs up to this size are read synchronously (see readBlob). */
const SYNC_READ_MAX = 256 * 1024;

export interface ContentStore {
  readonly dir: string;
  blobPath(d: Digest): string;
  /** True when the blob is stored, or stored lazily with its source still present. */
  has(d: Digest): boolean;
  /** The blob's size in bytes, or undefined when it is not stored. */
  size(d: Digest): number | undefined;
  readBlob(d: Digest): Promise<Buffer>;
  openRead(d: Digest): NodeJS.ReadableStream;
  /** Writes a lazily stored blob's bytes, so `blobPath` can be read; throws `store/not-found` when there is neither. */
  ensure(d: Digest): Promise<void>;
  /** Records `info` as producible by `recipe` without writing it (see the file comment). */
  putLazy(info: BlobInfo, recipe: LazyRecipe): void;
  /** Writes every lazily stored blob whose recipe `match` selects (before its source goes away). */
  materializeLazy(match: (r: LazyRecipe, d: Digest) => boolean): Promise<Digest[]>;
  writeBlob(data: Uint8Array, expected?: Expected): Promise<BlobInfo>;
  /** Streams `source` into the store, hashing as it goes; throws `store/digest-mismatch` on a bad blob. */
  ingest(source: AsyncIterable<Uint8Array>, expected?: Expected): Promise<BlobInfo>;
  delete(d: Digest): void;
  list(): Digest[];
  usage(): { count: number; bytes: number };
}

export function openContentStore(dir: string): ContentStore {
  return new FsContentStore(dir);
}

class FsContentStore implements ContentStore {
  readonly dir: string;
  private readonly blobsDir: string;
  private readonly ingestDir: string;
  private readonly lazyDir: string;

  constructor(dir: string) {
    this.dir = dir;
    this.blobsDir = join(dir, "blobs", "sha256");
    this.ingestDir = join(dir, "ingest");
    this.lazyDir = join(dir, "lazy");
  }

  blobPath(d: Digest): string {
    if (!isDigest(d)) throw new TsbuildError("store/bad-digest", `not a sha256 digest: ${JSON.stringify(d)}`);
    return join(this.blobsDir, digestHex(d));
  }

  has(d: Digest): boolean {
    return existsSync(this.blobPath(d)) || this.lazy(d) !== undefined;
  }

  size(d: Digest): number | undefined {
    try {
      return statSync(this.blobPath(d)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return this.lazy(d)?.size;
      throw err;
    }
  }

  async readBlob(d: Digest): Promise<Buffer> {
    await this.ensure(d);
    const path = this.blobPath(d);
    try {
      // Manifests, configs and indexes (every build reads a few) synchronously: quicker than a
      // round trip through the thread pool, and node:fs/promises is then not loaded at all by a
      // no-op build (0.9 ms). Anything bigger stays off the event loop.
      return statSync(path).size <= SYNC_READ_MAX ? readFileSync(path) : await readFile(path);
    } catch (err) {
      throw notFound(d, err);
    }
  }

  openRead(d: Digest): NodeJS.ReadableStream {
    const path = this.blobPath(d);
    if (existsSync(path)) return createReadStream(path);
    if (!this.lazy(d)) throw notFound(d);
    const ensured = this.ensure(d);
    return Readable.from(
      (async function* () {
        await ensured;
        yield* createReadStream(path);
      })(),
      { objectMode: false },
    );
  }

  async ensure(d: Digest): Promise<void> {
    if (existsSync(this.blobPath(d))) return;
    const recipe = this.lazy(d);
    if (!recipe) throw notFound(d);
    try {
      await this.ingest(produceLazyBlob(recipe, this.dir), { digest: d, size: recipe.size });
      rmSync(join(this.lazyDir, digestHex(d) + ".json"), { force: true });
    } catch (err) {
      if (!(err instanceof TsbuildError) || err.code !== "store/digest-mismatch") throw err;
      throw new TsbuildError(
        "store/lazy-mismatch",
        `blob ${d} could not be reproduced from snapshot ${recipe.snapshot}: ${err.message}; the snapshot changed after the image was built`,
        { cause: err },
      );
    }
  }

  putLazy(info: BlobInfo, recipe: LazyRecipe): void {
    if (this.has(info.digest)) return;
    mkdirSync(this.lazyDir, { recursive: true });
    writeFileAtomic(join(this.lazyDir, digestHex(info.digest) + ".json"), JSON.stringify({ ...recipe, size: info.size }));
  }

  async materializeLazy(match: (r: LazyRecipe, d: Digest) => boolean): Promise<Digest[]> {
    const done: Digest[] = [];
    for (const d of this.listLazy()) {
      const r = this.lazy(d);
      if (!r || !match(r, d)) continue;
      await this.ensure(d);
      done.push(d);
    }
    return done;
  }

  /** The recipe of a lazily stored blob whose source is still there, else undefined. */
  private lazy(d: Digest): LazyRecipe | undefined {
    let recipe: LazyRecipe;
    try {
      recipe = JSON.parse(readFileSync(join(this.lazyDir, digestHex(d) + ".json"), "utf8")) as LazyRecipe;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
    return lazyRecipeUsable(recipe, this.dir) ? recipe : undefined;
  }

  private listLazy(): Digest[] {
    return listDirOrEmpty(this.lazyDir).flatMap((n) => (n.endsWith(".json") ? [`sha256:${n.slice(0, -5)}`] : [])).filter(isDigest);
  }

  writeBlob(data: Uint8Array, expected?: Expected): Promise<BlobInfo> {
    // A blob already stored is never rewritten: a no-op rebuild's config and manifest cost a
    // hash and a stat instead of a temp file, a rename and an unlink.
    if (expected?.digest !== undefined && (expected.size === undefined || expected.size === data.byteLength)) {
      const stored = statIfFile(this.blobPath(expected.digest));
      if (stored?.size === data.byteLength && sha256Digest(data) === expected.digest) {
        return Promise.resolve({ digest: expected.digest, size: data.byteLength });
      }
    }
    return this.ingest(
      (async function* () {
        yield data;
      })(),
      expected,
    );
  }

  async ingest(source: AsyncIterable<Uint8Array>, expected: Expected = {}): Promise<BlobInfo> {
    if (expected.digest !== undefined) this.blobPath(expected.digest); // validates the digest's shape
    mkdirSync(this.ingestDir, { recursive: true });
    const tmp = join(this.ingestDir, `${process.pid}-${randomHex(8)}`);
    const hash = createHash("sha256");
    let size = 0;
    const fh = await open(tmp, "wx", 0o644);
    try {
      try {
        for await (const chunk of source) {
          hash.update(chunk);
          size += chunk.byteLength;
          await writeAll(fh, chunk);
        }
      } finally {
        await fh.close();
      }
      const digest: Digest = `sha256:${hash.digest("hex")}`;
      checkExpected(expected, digest, size);
      const final = this.blobPath(digest);
      if (existsSync(final)) {
        rmSync(tmp, { force: true });
      } else {
        mkdirSync(this.blobsDir, { recursive: true });
        renameSync(tmp, final);
      }
      return { digest, size };
    } catch (err) {
      rmSync(tmp, { force: true });
      throw err;
    }
  }

  delete(d: Digest): void {
    rmSync(this.blobPath(d), { force: true });
    rmSync(join(this.lazyDir, digestHex(d) + ".json"), { force: true });
  }

  list(): Digest[] {
    return listDirOrEmpty(this.blobsDir)
      .map((n) => `sha256:${n}`)
      .filter(isDigest)
      .sort();
  }

  usage(): { count: number; bytes: number } {
    let bytes = 0;
    const all = this.list();
    for (const d of all) bytes += this.size(d) ?? 0;
    return { count: all.length, bytes };
  }
}

async function writeAll(fh: FileHandle, chunk: Uint8Array): Promise<void> {
  let off = 0;
  while (off < chunk.byteLength) {
    const { bytesWritten } = await fh.write(chunk, off, chunk.byteLength - off);
    off += bytesWritten;
  }
}

function checkExpected(expected: Expected, digest: Digest, size: number): void {
  const badDigest = expected.digest !== undefined && expected.digest !== digest;
  const badSize = expected.size !== undefined && expected.size !== size;
  if (!badDigest && !badSize) return;
  const want = `${expected.digest ?? "(any digest)"} (${expected.size ?? "any"} bytes)`;
  throw new TsbuildError(
    "store/digest-mismatch",
    `content does not match: expected ${want}, got ${digest} (${size} bytes)`,
  );
}

function notFound(d: Digest, cause?: unknown): Error {
  if (cause !== undefined && (cause as NodeJS.ErrnoException).code !== "ENOENT") return cause as Error;
  return new TsbuildError("store/not-found", `blob ${d} is not in the content store`, { cause });
}

function statIfFile(path: string): { size: number } | undefined {
  const st = statSync(path, { throwIfNoEntry: false });
  return st?.isFile() ? st : undefined;
}
