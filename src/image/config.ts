/**
 * Image config builders in the style of ggcr's `mutate`: every function takes a value and returns
 * a new one; nothing is changed in place and nothing touches the disk. The bytes come from
 * canonical JSON, so equal inputs give equal bytes and equal digests.
 */
import { canonicalJson } from "../internal/canonical-json.js";
import { sha256Digest, type Digest } from "../internal/digest.js";
import type { ContainerConfig, Descriptor, HistoryEntry, Image, ImageConfig, Platform } from "./types.js";

/** The config of an empty (`FROM scratch`) image for `platform`. */
export function newImageConfig(platform: Platform): ImageConfig {
  const cfg: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    config: {},
    rootfs: { type: "layers", diff_ids: [] },
    history: [],
  };
  if (platform.variant) cfg.variant = platform.variant;
  return cfg;
}

/** An empty image (no layers) for `platform`. */
export function newImage(platform: Platform): Image {
  return { config: newImageConfig(platform), layers: [] };
}

/** A change to the container config; a key set to `undefined` removes that field. */
export type ContainerConfigPatch = { [K in keyof ContainerConfig]?: ContainerConfig[K] | undefined };

/** Returns `cfg` with `patch` merged into its container config (`config` object). */
export function withConfig(cfg: ImageConfig, patch: ContainerConfigPatch): ImageConfig {
  const next: Record<string, unknown> = { ...cfg.config };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete next[k];
    else next[k] = structuredClone(v);
  }
  return { ...cfg, config: next as ContainerConfig };
}

/** Returns `cfg` with one more history entry; `emptyLayer` marks a metadata-only step. */
export function addHistory(cfg: ImageConfig, entry: HistoryEntry, opts: { emptyLayer?: boolean } = {}): ImageConfig {
  const h: HistoryEntry = { ...entry };
  if (opts.emptyLayer) h.empty_layer = true;
  else delete h.empty_layer;
  return { ...cfg, history: [...(cfg.history ?? []), h] };
}

export interface AppendedLayer {
  /** Digest of the uncompressed tar. */
  diffId: Digest;
  /** The blob as stored (compressed digest, size, media type). */
  descriptor: Descriptor;
  /** The history entry of the step that made the layer; omitted means none is recorded. */
  history?: HistoryEntry;
}

/** Returns `image` with a layer on top: its blob descriptor, its diff ID and its history entry. */
export function appendLayer(image: Image, layer: AppendedLayer): Image {
  let config: ImageConfig = {
    ...image.config,
    rootfs: { type: "layers", diff_ids: [...image.config.rootfs.diff_ids, layer.diffId] },
  };
  if (layer.history) config = addHistory(config, layer.history);
  return { config, layers: [...image.layers, { ...layer.descriptor }] };
}

/** Formats a Unix time (seconds) the way Go's RFC 3339 does for whole seconds: `2023-01-01T00:00:00Z`. */
export function formatEpoch(epochSeconds: number): string {
  if (!Number.isInteger(epochSeconds) || epochSeconds < 0) {
    throw new RangeError(`SOURCE_DATE_EPOCH must be a non-negative integer, got ${epochSeconds}`);
  }
  return new Date(epochSeconds * 1000).toISOString().replace(/\.000Z$/, "Z");
}

/**
 * Applies SOURCE_DATE_EPOCH (seconds, passed in): sets `created` and every history `created`
 * to that time, as BuildKit does, so the config digest does not depend on the clock.
 */
export function withSourceDateEpoch(cfg: ImageConfig, epochSeconds: number): ImageConfig {
  const created = formatEpoch(epochSeconds);
  return { ...cfg, created, history: (cfg.history ?? []).map((h) => ({ ...h, created })) };
}

/** Sets `created` (RFC 3339 text) without touching history. */
export function withCreated(cfg: ImageConfig, created: string): ImageConfig {
  return { ...cfg, created };
}

/** The platform an image config declares. */
export function configPlatform(cfg: ImageConfig): Platform {
  const p: Platform = { os: cfg.os, architecture: cfg.architecture };
  if (cfg.variant) p.variant = cfg.variant;
  return p;
}

/** The bytes of a config: canonical JSON (sorted keys), so equal configs have equal digests. */
export function serializeConfig(cfg: ImageConfig): Uint8Array {
  return Buffer.from(canonicalJson(cfg), "utf8");
}

/** The config's digest (the image ID). */
export function configDigest(cfg: ImageConfig): Digest {
  return sha256Digest(serializeConfig(cfg));
}
