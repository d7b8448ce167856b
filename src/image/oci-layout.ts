/**
 * OCI image layout (image-spec image-layout.md) as a directory or a tar: `oci-layout`,
 * `index.json` whose entries carry `org.opencontainers.image.ref.name` (the tag part, as BuildKit
 * writes it) and `io.containerd.image.name` (the full name), and `blobs/sha256/<hex>`.
 */
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { randomHex } from "../internal/random-hex.js";
import { TsbuildError } from "../errors/index.js";
import { canonicalJson } from "../internal/canonical-json.js";
import { digestHex } from "../internal/digest.js";
import { writeFileAtomic } from "../internal/atomic-write.js";
import type { ContentStore } from "./content-store.js";
import { parseImageName } from "./image-name.js";
import { parseIndex } from "./manifest.js";
import { reachableBlobs } from "./read-image.js";
import { writeLayoutTar, type TarDestination } from "./layout-tar.js";
import {
  ANNOTATION_CONTAINERD_IMAGE_NAME,
  ANNOTATION_REF_NAME,
  MEDIA_TYPE_OCI_INDEX,
  type Descriptor,
  type Index,
} from "./types.js";

export const OCI_LAYOUT_FILE = "oci-layout";
export const OCI_LAYOUT_BYTES = Buffer.from(canonicalJson({ imageLayoutVersion: "1.0.0" }), "utf8");

export interface LayoutEntry {
  /** The manifest or index to include. */
  descriptor: Descriptor;
  /** `org.opencontainers.image.ref.name`; defaults to the tag of `imageName`. */
  refName?: string;
  /** Full image name, recorded as `io.containerd.image.name`. */
  imageName?: string;
}

export interface LayoutOptions {
  store: ContentStore;
  manifests: LayoutEntry[];
}

/** The `index.json` descriptor for an entry, with its name annotations. */
export function layoutDescriptor(e: LayoutEntry): Descriptor {
  const d: Descriptor = { mediaType: e.descriptor.mediaType, digest: e.descriptor.digest, size: e.descriptor.size };
  if (e.descriptor.platform) d.platform = { ...e.descriptor.platform };
  const annotations: Record<string, string> = { ...(e.descriptor.annotations ?? {}) };
  const refName = e.refName ?? (e.imageName ? parseImageName(e.imageName).tag : undefined);
  if (e.imageName) annotations[ANNOTATION_CONTAINERD_IMAGE_NAME] = e.imageName;
  if (refName) annotations[ANNOTATION_REF_NAME] = refName;
  if (Object.keys(annotations).length > 0) d.annotations = annotations;
  return d;
}

function indexBytes(manifests: Descriptor[]): Uint8Array {
  const index: Index = { schemaVersion: 2, mediaType: MEDIA_TYPE_OCI_INDEX, manifests };
  return Buffer.from(canonicalJson(index) + "\n", "utf8");
}

/** Reads a layout directory's `index.json`; throws `image/not-oci-layout` when it is not a layout. */
export function readLayoutIndex(dir: string): Index {
  if (!existsSync(join(dir, OCI_LAYOUT_FILE)) || !existsSync(join(dir, "index.json"))) {
    throw new TsbuildError("image/not-oci-layout", `${dir} is not an OCI image layout (no oci-layout or index.json)`);
  }
  return parseIndex(readFileSync(join(dir, "index.json")), `${dir}/index.json`);
}

/**
 * Writes (or adds to) an OCI layout directory. Entries already in `index.json` stay unless an
 * entry with the same ref name replaces them. Blobs are hardlinked from the store when it is on
 * the same filesystem, else copied; blobs already present are skipped; each lands by rename.
 */
export async function writeOciLayout(dir: string, opts: LayoutOptions): Promise<Descriptor[]> {
  const blobsDir = join(dir, "blobs", "sha256");
  mkdirSync(blobsDir, { recursive: true });
  for (const e of opts.manifests) {
    for (const b of await reachableBlobs(opts.store, e.descriptor)) {
      if (opts.store.has(b.digest)) await opts.store.ensure(b.digest); // writes a lazily stored blob
      copyBlob(opts.store, b, blobsDir);
    }
  }
  if (!existsSync(join(dir, OCI_LAYOUT_FILE))) writeFileAtomic(join(dir, OCI_LAYOUT_FILE), OCI_LAYOUT_BYTES);
  const existing = existsSync(join(dir, "index.json")) ? readLayoutIndex(dir).manifests : [];
  const added = opts.manifests.map(layoutDescriptor);
  const merged = mergeEntries(existing, added);
  writeFileAtomic(join(dir, "index.json"), indexBytes(merged));
  return added;
}

function mergeEntries(existing: Descriptor[], added: Descriptor[]): Descriptor[] {
  const key = (d: Descriptor) => d.annotations?.[ANNOTATION_REF_NAME];
  const addedNames = new Set(added.map(key).filter((k): k is string => k !== undefined));
  const kept = existing.filter((d) => {
    const k = key(d);
    return k === undefined ? !added.some((a) => a.digest === d.digest && key(a) === undefined) : !addedNames.has(k);
  });
  return [...kept, ...added];
}

function copyBlob(store: ContentStore, b: Descriptor, blobsDir: string): void {
  const target = join(blobsDir, digestHex(b.digest));
  const src = store.blobPath(b.digest);
  if (!existsSync(src)) {
    throw new TsbuildError("store/not-found", `blob ${b.digest} is not in the content store`);
  }
  if (existsSync(target) && statSync(target).size === statSync(src).size) return;
  const tmp = `${target}.${process.pid}.${randomHex(4)}.tmp`;
  try {
    try {
      linkSync(src, tmp);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK") throw err;
      copyFileSync(src, tmp);
    }
    renameSync(tmp, target);
  } catch (err) {
    rmSync(tmp, { force: true });
    throw err;
  }
}

/** The same layout as one tar (`oci-archive`), deterministic: sorted entries, fixed times. */
export async function writeOciTar(
  dest: TarDestination,
  opts: LayoutOptions & { mtime?: number; extraFiles?: Map<string, Uint8Array> },
): Promise<Descriptor[]> {
  const blobs: Descriptor[] = [];
  for (const e of opts.manifests) blobs.push(...(await reachableBlobs(opts.store, e.descriptor)));
  const entries = opts.manifests.map(layoutDescriptor);
  const files = new Map<string, Uint8Array>(opts.extraFiles ?? []);
  files.set(OCI_LAYOUT_FILE, OCI_LAYOUT_BYTES);
  files.set("index.json", indexBytes(entries));
  await writeLayoutTar(dest, { files, blobs, store: opts.store, mtime: opts.mtime ?? 0 });
  return entries;
}
