/** Reading images out of a content store: resolve a descriptor to manifest + config, list all blobs. */
import { TsbuildError } from "../errors/index.js";
import type { ContentStore } from "./content-store.js";
import { isIndexMediaType, parseConfig, parseIndex, parseManifest } from "./manifest.js";
import { formatPlatform, hostPlatform, selectPlatform } from "./platform.js";
import type { Descriptor, ImageConfig, Manifest, Platform } from "./types.js";

export interface ReadImage {
  /** The image manifest's descriptor (the platform entry when `descriptor` was an index). */
  descriptor: Descriptor;
  manifest: Manifest;
  config: ImageConfig;
  manifestBytes: Buffer;
  configBytes: Buffer;
}

/** Reads the manifest and config `descriptor` points at, resolving an index to `platform` (host by default). */
export async function readImage(
  store: ContentStore,
  descriptor: Descriptor,
  opts: { platform?: Platform } = {},
): Promise<ReadImage> {
  const target = await resolveManifest(store, descriptor, opts.platform ?? hostPlatform());
  const manifestBytes = await store.readBlob(target.digest);
  const manifest = parseManifest(manifestBytes, `manifest ${target.digest}`);
  const configBytes = await store.readBlob(manifest.config.digest);
  const config = parseConfig(configBytes, `config ${manifest.config.digest}`);
  return { descriptor: target, manifest, config, manifestBytes, configBytes };
}

/** Follows index → manifest for `platform`; a manifest descriptor is returned as it is. */
export async function resolveManifest(store: ContentStore, d: Descriptor, platform: Platform): Promise<Descriptor> {
  let cur = d;
  for (let depth = 0; isIndexMediaType(cur.mediaType) || (depth === 0 && !cur.mediaType); depth++) {
    const bytes = await store.readBlob(cur.digest);
    const parsed = JSON.parse(bytes.toString("utf8")) as { manifests?: unknown; mediaType?: string };
    if (!Array.isArray(parsed.manifests)) return { ...cur, mediaType: parsed.mediaType ?? cur.mediaType };
    const index = parseIndex(bytes, `index ${cur.digest}`);
    const hit = selectPlatform(index.manifests, platform);
    if (!hit) {
      const have = index.manifests.map((m) => (m.platform ? formatPlatform(m.platform) : "unknown")).join(", ");
      throw new TsbuildError(
        "image/no-matching-platform",
        `no image for platform ${formatPlatform(platform)} in index ${cur.digest} (has: ${have || "nothing"})`,
      );
    }
    if (depth > 4) throw new TsbuildError("image/index-too-deep", `index ${d.digest} nests too deeply`);
    cur = hit;
  }
  return cur;
}

/**
 * Every blob reachable from `root` (the root itself first, then manifests, configs, layers),
 * each once. Throws `store/not-found` if a manifest or index is missing.
 */
export async function reachableBlobs(store: ContentStore, root: Descriptor): Promise<Descriptor[]> {
  const seen = new Map<string, Descriptor>();
  const visit = async (d: Descriptor): Promise<void> => {
    if (seen.has(d.digest)) return;
    seen.set(d.digest, d);
    if (isIndexMediaType(d.mediaType)) {
      const index = parseIndex(await store.readBlob(d.digest), `index ${d.digest}`);
      for (const m of index.manifests) await visit(m);
    } else if (isManifestLike(d.mediaType)) {
      const m = parseManifest(await store.readBlob(d.digest), `manifest ${d.digest}`);
      await visit(m.config);
      for (const l of m.layers) await visit(l);
    }
  };
  await visit(root);
  return [...seen.values()];
}

function isManifestLike(mt: string): boolean {
  return mt.endsWith("manifest.v1+json") || mt.endsWith("manifest.v2+json");
}
