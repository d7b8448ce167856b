/**
 * The local image store: names (normalised like Docker, `app` → `docker.io/library/app:latest`)
 * mapped to a manifest or index descriptor whose blobs live in the content store at
 * `<root>/content`. The map is one JSON file, `<root>/images/images.json`, changed only under a
 * lockfile in `<root>/locks` by re-read → modify → write temp → rename, so concurrent writers
 * (processes too) never lose each other's names.
 */
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { TsbuildError } from "../errors/index.js";
import { canonicalJson } from "../internal/canonical-json.js";
import { writeFileAtomic } from "../internal/atomic-write.js";
import { ROOT_DIRS } from "../internal/root.js";
import { openContentStore, type ContentStore } from "./content-store.js";
import { normalizeImageName } from "./image-name.js";
import type { Descriptor } from "./types.js";

export interface ImageRecord {
  /** Full normalised name, `docker.io/library/app:latest`. */
  name: string;
  /** The image's manifest or index. */
  descriptor: Descriptor;
  /** When the name was last set (RFC 3339). */
  createdAt: string;
}

export interface ImageStore {
  readonly root: string;
  readonly content: ContentStore;
  /** Points `name` at `descriptor` (its blobs must already be in `content`). */
  put(name: string, descriptor: Descriptor): ImageRecord;
  get(name: string): ImageRecord | undefined;
  /** Every record, sorted by name. */
  list(): ImageRecord[];
  /** Gives the image named `src` a second name `dst`; throws `image/not-found` when `src` is unknown. */
  tag(src: string, dst: string): ImageRecord;
  /** Removes a name; returns the removed record or undefined. Blobs stay until pruned. */
  remove(name: string): ImageRecord | undefined;
}

interface StoreFile {
  version: 1;
  images: Record<string, ImageRecord>;
}

export function openImageStore(root: string): ImageStore {
  return new FileImageStore(root);
}

class FileImageStore implements ImageStore {
  readonly root: string;
  readonly content: ContentStore;
  private readonly file: string;
  private readonly lockFile: string;

  constructor(root: string) {
    this.root = root;
    this.content = openContentStore(join(root, ROOT_DIRS.content));
    this.file = join(root, ROOT_DIRS.images, "images.json");
    this.lockFile = join(root, ROOT_DIRS.locks, "images.lock");
  }

  put(name: string, descriptor: Descriptor): ImageRecord {
    const full = normalizeImageName(name);
    // A no-op rebuild tags the image it already had: nothing to lock or rewrite.
    const current = this.read().images[full];
    if (current && canonicalJson(current.descriptor) === canonicalJson(stripName(descriptor))) return current;
    const rec: ImageRecord = { name: full, descriptor: stripName(descriptor), createdAt: new Date().toISOString() };
    this.update((f) => void (f.images[full] = rec));
    return rec;
  }

  get(name: string): ImageRecord | undefined {
    return this.read().images[normalizeImageName(name)];
  }

  list(): ImageRecord[] {
    return Object.values(this.read().images).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  tag(src: string, dst: string): ImageRecord {
    const from = normalizeImageName(src);
    const to = normalizeImageName(dst);
    let out!: ImageRecord;
    this.update((f) => {
      const rec = f.images[from];
      if (!rec) throw notFound(src);
      out = { name: to, descriptor: rec.descriptor, createdAt: new Date().toISOString() };
      f.images[to] = out;
    });
    return out;
  }

  remove(name: string): ImageRecord | undefined {
    const full = normalizeImageName(name);
    let removed: ImageRecord | undefined;
    this.update((f) => {
      removed = f.images[full];
      delete f.images[full];
    });
    return removed;
  }

  private read(): StoreFile {
    let text: string;
    try {
      text = readFileSync(this.file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, images: {} };
      throw err;
    }
    const parsed = JSON.parse(text) as StoreFile;
    if (parsed.version !== 1 || typeof parsed.images !== "object") {
      throw new TsbuildError("image/store-corrupt", `${this.file} is not a tsbuild image store (version 1)`);
    }
    return parsed;
  }

  private update(change: (f: StoreFile) => void): void {
    withLock(this.lockFile, () => {
      const f = this.read();
      change(f);
      writeFileAtomic(this.file, canonicalJson(f) + "\n");
    });
  }
}

function stripName(d: Descriptor): Descriptor {
  const out: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
  if (d.platform) out.platform = d.platform;
  return out;
}

function notFound(name: string): TsbuildError {
  return new TsbuildError("image/not-found", `No such image: ${name}`);
}

const LOCK_STALE_MS = 30_000;
const LOCK_WAIT_MS = 60_000;

/** Runs `fn` holding an exclusive lockfile (O_EXCL create); a lock older than 30 s is taken over. */
export function withLock<T>(lockFile: string, fn: () => T): T {
  mkdirSync(join(lockFile, ".."), { recursive: true });
  const deadline = Date.now() + LOCK_WAIT_MS;
  const sleeper = new Int32Array(new SharedArrayBuffer(4));
  for (;;) {
    try {
      const fd = openSync(lockFile, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
      if (isStale(lockFile)) rmSync(lockFile, { force: true });
      else if (Date.now() > deadline) throw new TsbuildError("image/store-locked", `timed out waiting for ${lockFile}`);
      else Atomics.wait(sleeper, 0, 0, 5 + Math.floor(Math.random() * 10));
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lockFile, { force: true });
  }
}

function isStale(lockFile: string): boolean {
  try {
    return existsSync(lockFile) && Date.now() - statSync(lockFile).mtimeMs > LOCK_STALE_MS;
  } catch {
    return false;
  }
}
