/**
 * Manifests and indexes: pure builders from an `Image` value to the bytes that get stored, plus
 * the media-type rules for OCI vs Docker schema2. No I/O.
 */
import { TsbuildError } from "../errors/index.js";
import { canonicalJson } from "../internal/canonical-json.js";
import { sha256Digest } from "../internal/digest.js";
import { serializeConfig } from "./config.js";
import {
  MEDIA_TYPE_DOCKER_CONFIG,
  MEDIA_TYPE_DOCKER_LAYER,
  MEDIA_TYPE_DOCKER_LAYER_GZIP,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_OCI_CONFIG,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_OCI_LAYER,
  MEDIA_TYPE_OCI_LAYER_GZIP,
  MEDIA_TYPE_OCI_LAYER_ZSTD,
  MEDIA_TYPE_OCI_MANIFEST,
  type Descriptor,
  type Image,
  type ImageConfig,
  type Index,
  type Manifest,
  type MediaTypes,
} from "./types.js";

const OCI_TO_DOCKER_LAYER: Record<string, string> = {
  [MEDIA_TYPE_OCI_LAYER]: MEDIA_TYPE_DOCKER_LAYER,
  [MEDIA_TYPE_OCI_LAYER_GZIP]: MEDIA_TYPE_DOCKER_LAYER_GZIP,
};
const DOCKER_TO_OCI_LAYER: Record<string, string> = {
  [MEDIA_TYPE_DOCKER_LAYER]: MEDIA_TYPE_OCI_LAYER,
  [MEDIA_TYPE_DOCKER_LAYER_GZIP]: MEDIA_TYPE_OCI_LAYER_GZIP,
};

/** The layer media type in the requested family; zstd has no Docker schema2 form. */
export function convertLayerMediaType(mediaType: string, family: MediaTypes): string {
  if (family === "oci") return DOCKER_TO_OCI_LAYER[mediaType] ?? mediaType;
  const docker = OCI_TO_DOCKER_LAYER[mediaType];
  if (docker) return docker;
  if (mediaType === MEDIA_TYPE_OCI_LAYER_ZSTD) {
    throw new TsbuildError("image/zstd-needs-oci", "zstd layers need OCI media types (oci-mediatypes=true)");
  }
  return mediaType;
}

export function manifestMediaType(family: MediaTypes): string {
  return family === "oci" ? MEDIA_TYPE_OCI_MANIFEST : MEDIA_TYPE_DOCKER_MANIFEST;
}

export function indexMediaType(family: MediaTypes): string {
  return family === "oci" ? MEDIA_TYPE_OCI_INDEX : MEDIA_TYPE_DOCKER_MANIFEST_LIST;
}

export function configMediaType(family: MediaTypes): string {
  return family === "oci" ? MEDIA_TYPE_OCI_CONFIG : MEDIA_TYPE_DOCKER_CONFIG;
}

export function isIndexMediaType(mt: string | undefined): boolean {
  return mt === MEDIA_TYPE_OCI_INDEX || mt === MEDIA_TYPE_DOCKER_MANIFEST_LIST;
}

export function isManifestMediaType(mt: string | undefined): boolean {
  return mt === MEDIA_TYPE_OCI_MANIFEST || mt === MEDIA_TYPE_DOCKER_MANIFEST;
}

export interface BuiltManifest {
  manifest: Manifest;
  manifestBytes: Uint8Array;
  /** Descriptor of the manifest blob (what an index or a name points at). */
  descriptor: Descriptor;
  config: ImageConfig;
  configBytes: Uint8Array;
  configDescriptor: Descriptor;
}

export interface ManifestOptions {
  /** Media-type family; OCI unless "docker" is asked for. */
  mediaTypes?: MediaTypes;
  /** Manifest annotations (OCI only; Docker schema2 has none). */
  annotations?: Record<string, string>;
}

/** Serialises an image's config and manifest; equal inputs give byte-identical output. */
export function buildManifest(image: Image, opts: ManifestOptions = {}): BuiltManifest {
  const family = opts.mediaTypes ?? "oci";
  if (image.layers.length !== image.config.rootfs.diff_ids.length) {
    throw new TsbuildError(
      "image/layer-count",
      `image has ${image.layers.length} layers but ${image.config.rootfs.diff_ids.length} diff_ids`,
    );
  }
  const configBytes = serializeConfig(image.config);
  const configDescriptor: Descriptor = {
    mediaType: configMediaType(family),
    digest: sha256Digest(configBytes),
    size: configBytes.byteLength,
  };
  const manifest: Manifest = {
    schemaVersion: 2,
    mediaType: manifestMediaType(family),
    config: configDescriptor,
    layers: image.layers.map((l) => layerDescriptor(l, family)),
  };
  if (family === "oci" && opts.annotations && Object.keys(opts.annotations).length > 0) {
    manifest.annotations = { ...opts.annotations };
  }
  const manifestBytes = Buffer.from(canonicalJson(manifest), "utf8");
  const descriptor: Descriptor = {
    mediaType: manifest.mediaType!,
    digest: sha256Digest(manifestBytes),
    size: manifestBytes.byteLength,
  };
  return { manifest, manifestBytes, descriptor, config: image.config, configBytes, configDescriptor };
}

function layerDescriptor(l: Descriptor, family: MediaTypes): Descriptor {
  const d: Descriptor = { mediaType: convertLayerMediaType(l.mediaType, family), digest: l.digest, size: l.size };
  if (family === "oci") {
    if (l.annotations) d.annotations = { ...l.annotations };
    if (l.urls) d.urls = [...l.urls];
  }
  return d;
}

/** Serialises an index over `manifests` (each should carry `platform`). */
export function buildIndex(
  manifests: Descriptor[],
  opts: ManifestOptions = {},
): { index: Index; indexBytes: Uint8Array; descriptor: Descriptor } {
  const family = opts.mediaTypes ?? "oci";
  const index: Index = { schemaVersion: 2, mediaType: indexMediaType(family), manifests: manifests.map((m) => ({ ...m })) };
  if (family === "oci" && opts.annotations && Object.keys(opts.annotations).length > 0) {
    index.annotations = { ...opts.annotations };
  }
  const indexBytes = Buffer.from(canonicalJson(index), "utf8");
  return {
    index,
    indexBytes,
    descriptor: { mediaType: index.mediaType!, digest: sha256Digest(indexBytes), size: indexBytes.byteLength },
  };
}

/** Parses manifest bytes, checking the fields every consumer relies on. */
export function parseManifest(bytes: Uint8Array, what = "manifest"): Manifest {
  const m = parseJson(bytes, what) as Partial<Manifest>;
  if (m.schemaVersion !== 2 || !m.config || !Array.isArray(m.layers)) {
    throw new TsbuildError("image/bad-manifest", `${what} is not an image manifest (schemaVersion 2 with config and layers)`);
  }
  return m as Manifest;
}

/** Parses index bytes. */
export function parseIndex(bytes: Uint8Array, what = "index"): Index {
  const i = parseJson(bytes, what) as Partial<Index>;
  if (i.schemaVersion !== 2 || !Array.isArray(i.manifests)) {
    throw new TsbuildError("image/bad-index", `${what} is not an image index (schemaVersion 2 with manifests)`);
  }
  return i as Index;
}

/** Parses config bytes. */
export function parseConfig(bytes: Uint8Array, what = "image config"): ImageConfig {
  const c = parseJson(bytes, what) as Partial<ImageConfig>;
  if (!c.rootfs || !Array.isArray(c.rootfs.diff_ids)) {
    throw new TsbuildError("image/bad-config", `${what} has no rootfs.diff_ids`);
  }
  return { ...c, config: c.config ?? {} } as ImageConfig;
}

function parseJson(bytes: Uint8Array, what: string): unknown {
  try {
    return JSON.parse(Buffer.from(bytes).toString("utf8"));
  } catch (err) {
    throw new TsbuildError("image/bad-json", `${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}
