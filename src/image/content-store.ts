/**
 * The content store: immutable blobs addressed by their sha256 digest, kept at
 * `<dir>/blobs/sha256/<hex>` (the OCI layout shape, so a store can be copied into a layout).
 *
 * Every write goes to a uniquely named temporary file under `<dir>/ingest/`, is hashed while it is
 * written, is checked against the expected digest and size, and only then is renamed into place.
 * rename(2) is atomic, so concurrent writers of the same blob (threads or processes) each produce
 * a complete file and the last rename wins with identical bytes; a blob that already exists is
 * never rewritten.
 */
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { open, readFile, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { TsbuildError } from "../errors/index.js";
import { digestHex, isDigest, type Digest } from "../internal/digest.js";

export interface BlobInfo {
  digest: Digest;
  size: number;
}

/** What the caller knows about a blob before writing it; anything given is verified. */
export interface Expected {
  digest?: Digest;
  size?: number;
}

export interface ContentStore {
  readonly dir: string;
  blobPath(d: Digest): string;
  has(d: Digest): boolean;
  /** The blob's size in bytes, or undefined when it is not stored. */
  size(d: Digest): number | undefined;
  readBlob(d: Digest): Promise<Buffer>;
  openRead(d: Digest): NodeJS.ReadableStream;
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

  constructor(dir: string) {
    this.dir = dir;
    this.blobsDir = join(dir, "blobs", "sha256");
    this.ingestDir = join(dir, "ingest");
  }

  blobPath(d: Digest): string {
    if (!isDigest(d)) throw new TsbuildError("store/bad-digest", `not a sha256 digest: ${JSON.stringify(d)}`);
    return join(this.blobsDir, digestHex(d));
  }

  has(d: Digest): boolean {
    return existsSync(this.blobPath(d));
  }

  size(d: Digest): number | undefined {
    try {
      return statSync(this.blobPath(d)).size;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw err;
    }
  }

  async readBlob(d: Digest): Promise<Buffer> {
    try {
      return await readFile(this.blobPath(d));
    } catch (err) {
      throw notFound(d, err);
    }
  }

  openRead(d: Digest): NodeJS.ReadableStream {
    const path = this.blobPath(d);
    if (!existsSync(path)) throw notFound(d);
    return createReadStream(path);
  }

  writeBlob(data: Uint8Array, expected?: Expected): Promise<BlobInfo> {
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
    const tmp = join(this.ingestDir, `${process.pid}-${randomBytes(8).toString("hex")}`);
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
  }

  list(): Digest[] {
    let names: string[];
    try {
      names = readdirSync(this.blobsDir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
      throw err;
    }
    return names
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
