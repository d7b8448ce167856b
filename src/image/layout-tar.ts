/**
 * Writes a tar of small files and content-store blobs, deterministically: entries sorted by name,
 * fixed mtimes and owners, blobs mode 0444, `blobs/` and `blobs/sha256/` directory entries, as
 * containerd's archive exporter does. Shared by the OCI archive and docker-archive writers.
 */
import { createWriteStream, mkdirSync, renameSync, rmSync } from "node:fs";
import { dirname, join, basename } from "node:path";
import { randomHex } from "../internal/random-hex.js";
import { pipeline } from "node:stream/promises";
import type { Writable } from "node:stream";
import { pack } from "tar-stream";
import { digestHex } from "../internal/digest.js";
import type { ContentStore } from "./content-store.js";
import type { Descriptor } from "./types.js";

export interface TarContents {
  /** Small files by path (`index.json`, `oci-layout`, `manifest.json`). */
  files: Map<string, Uint8Array>;
  /** Blobs written as `blobs/sha256/<hex>`. */
  blobs: Descriptor[];
  store: ContentStore;
  /** mtime of every entry, seconds since the epoch (default 0). */
  mtime?: number;
}

/** Where a tar goes: a file path (written atomically) or a stream (not ended by error). */
export type TarDestination = string | Writable;

export async function writeLayoutTar(dest: TarDestination, contents: TarContents): Promise<void> {
  const mtime = new Date((contents.mtime ?? 0) * 1000);
  const p = pack();
  const entries = new Map<string, () => Promise<void>>();
  const file = (name: string, data: Uint8Array, mode: number) => () =>
    new Promise<void>((res, rej) => p.entry({ ...common(mtime), name, mode, size: data.byteLength }, data, (e) => (e ? rej(e) : res())));
  for (const [name, data] of contents.files) entries.set(name, file(name, data, 0o644));
  if (contents.blobs.length > 0) {
    entries.set("blobs/", dirEntry(p, "blobs/", mtime));
    entries.set("blobs/sha256/", dirEntry(p, "blobs/sha256/", mtime));
  }
  for (const b of contents.blobs) {
    const name = `blobs/sha256/${digestHex(b.digest)}`;
    if (entries.has(name)) continue;
    entries.set(name, () => blobEntry(p, contents.store, b, name, mtime));
  }
  const produce = (async () => {
    for (const name of [...entries.keys()].sort()) await entries.get(name)!();
    p.finalize();
  })();
  if (typeof dest === "string") await toFile(dest, p, produce);
  else await Promise.all([pipeline(p, dest), produce]);
}

function common(mtime: Date) {
  return { mtime, uid: 0, gid: 0, uname: "", gname: "" };
}

function dirEntry(p: ReturnType<typeof pack>, name: string, mtime: Date): () => Promise<void> {
  return () =>
    new Promise<void>((res, rej) =>
      p.entry({ ...common(mtime), name, type: "directory", mode: 0o755 }, (e) => (e ? rej(e) : res())),
    );
}

async function blobEntry(p: ReturnType<typeof pack>, store: ContentStore, b: Descriptor, name: string, mtime: Date): Promise<void> {
  const size = store.size(b.digest);
  if (size === undefined) await store.readBlob(b.digest); // throws store/not-found
  let done!: () => void;
  let fail!: (e: Error) => void;
  const finished = new Promise<void>((res, rej) => ((done = res), (fail = rej)));
  const sink = p.entry({ ...common(mtime), name, mode: 0o444, size: size! }, (e) => (e ? fail(e) : done()));
  await pipeline(store.openRead(b.digest), sink as unknown as NodeJS.WritableStream);
  await finished;
}

async function toFile(path: string, p: ReturnType<typeof pack>, produce: Promise<void>): Promise<void> {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${randomHex(4)}.tmp`);
  try {
    await Promise.all([pipeline(p, createWriteStream(tmp)), produce]);
    renameSync(tmp, path);
  } catch (err) {
    p.destroy();
    rmSync(tmp, { force: true });
    throw err;
  }
}
