/**
 * Base images from a local OCI layout (`FROM oci-layout://path[:tag|@digest]`, named contexts):
 * pick the manifest by ref name, by digest, or the only one; copy its blobs into the content
 * store with digest checks; resolve an index to the wanted platform.
 */
import { createReadStream, existsSync } from "node:fs";
import { join } from "node:path";
import { TsbuildError } from "../errors/index.js";
import { digestHex, isDigest } from "../internal/digest.js";
import type { ContentStore } from "./content-store.js";
import { readLayoutIndex } from "./oci-layout.js";
import { isIndexMediaType, parseIndex, parseManifest } from "./manifest.js";
import { hostPlatform, selectPlatform } from "./platform.js";
import { readImage, type ReadImage } from "./read-image.js";
import { ANNOTATION_REF_NAME, type Descriptor, type Platform } from "./types.js";

export interface LocalLayoutImage extends ReadImage {
  /** The index.json entry that was selected (manifest or index). */
  selected: Descriptor;
}

/** Splits `oci-layout://path:tag` / `…@sha256:…` (the scheme is optional) into path and ref. */
export function parseOciLayoutRef(input: string): { dir: string; ref?: string } {
  const s = input.replace(/^oci-layout:\/\//, "");
  const at = s.lastIndexOf("@");
  if (at > 0 && isDigest(s.slice(at + 1))) return { dir: s.slice(0, at), ref: s.slice(at) };
  const colon = s.lastIndexOf(":");
  if (colon > s.lastIndexOf("/") && colon > 0) return { dir: s.slice(0, colon), ref: s.slice(colon + 1) };
  return { dir: s };
}

/** Selects an image in the layout at `dir`, ingests its blobs into `store`, and reads it. */
export async function loadOciLayoutImage(
  dir: string,
  opts: { store: ContentStore; ref?: string; platform?: Platform },
): Promise<LocalLayoutImage> {
  const entries = readLayoutIndex(dir).manifests;
  const selected = selectEntry(dir, entries, opts.ref);
  await ingestTree(dir, opts.store, selected, opts.platform);
  const read = await readImage(opts.store, selected, opts.platform ? { platform: opts.platform } : {});
  return { ...read, selected };
}

function selectEntry(dir: string, entries: Descriptor[], ref: string | undefined): Descriptor {
  if (ref === undefined) {
    if (entries.length === 1) return entries[0]!;
    const tagged = entries.filter((e) => e.annotations?.[ANNOTATION_REF_NAME] === "latest");
    if (tagged.length === 1) return tagged[0]!;
    throw new TsbuildError("image/ambiguous-layout", `${dir} holds ${entries.length} images; name one with :TAG or @DIGEST`);
  }
  const ref2 = ref.startsWith("@") ? ref.slice(1) : ref;
  const hit = isDigest(ref2)
    ? entries.find((e) => e.digest === ref2)
    : entries.find((e) => e.annotations?.[ANNOTATION_REF_NAME] === ref2);
  if (hit) return hit;
  if (isDigest(ref2) && blobExists(dir, ref2)) {
    // a digest not listed in index.json, e.g. one platform of an index: its media type comes from the blob
    return { mediaType: "", digest: ref2, size: 0 };
  }
  const names = entries.map((e) => e.annotations?.[ANNOTATION_REF_NAME]).filter(Boolean);
  throw new TsbuildError("image/not-found", `no image ${ref} in ${dir} (has: ${names.join(", ") || "no names"})`);
}

function blobExists(dir: string, d: string): boolean {
  return isDigest(d) && existsSync(join(dir, "blobs", "sha256", digestHex(d)));
}

/** Copies the blobs of `d` into the store: the index, the chosen platform's manifest, its config and layers. */
async function ingestTree(dir: string, store: ContentStore, d: Descriptor, platform: Platform | undefined): Promise<void> {
  const copy = async (x: Descriptor) => {
    if (store.has(x.digest)) return;
    const path = join(dir, "blobs", "sha256", digestHex(x.digest));
    if (!existsSync(path)) throw new TsbuildError("image/bad-layout", `${dir} lacks blob ${x.digest}`);
    await store.ingest(createReadStream(path), x.size > 0 ? { digest: x.digest, size: x.size } : { digest: x.digest });
  };
  await copy(d);
  const bytes = await store.readBlob(d.digest);
  const parsed = JSON.parse(bytes.toString("utf8")) as { manifests?: unknown };
  if (isIndexMediaType(d.mediaType) || Array.isArray(parsed.manifests)) {
    const index = parseIndex(bytes);
    const m = selectPlatform(index.manifests, platform ?? hostPlatform());
    if (m) await ingestTree(dir, store, m, platform);
    return;
  }
  const manifest = parseManifest(bytes);
  await copy(manifest.config);
  for (const l of manifest.layers) await copy(l);
}
