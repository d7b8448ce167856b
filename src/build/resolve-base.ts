/**
 * Finds a FROM image the way `docker build` does: an `oci-layout://` path, else the local image
 * store by name (unless --pull), else the registry — and a pulled image is kept in the local
 * store so the next build does not download it again.
 */
import { TsbuildError } from "../errors/index.js";
import { loadOciLayoutImage, parseOciLayoutRef } from "../image/base-image-local.js";
import { loadImageArchive } from "../image/image-archive.js";
import type { ContentStore } from "../image/content-store.js";
import { normalizeImageName } from "../image/image-name.js";
import type { ImageStore } from "../image/image-store.js";
import { readImage } from "../image/read-image.js";
import { MEDIA_TYPE_OCI_INDEX, type Platform } from "../image/types.js";
import { pullImage } from "../registry/pull.js";
import type { TransferEvent } from "../registry/types.js";
import type { ResolvedBase } from "./ops/base.js";

export interface ResolveBaseOptions {
  store: ContentStore;
  images: ImageStore;
  platform: Platform;
  pull: boolean;
  insecureRegistries?: string[];
  mirrors?: Record<string, string[]>;
  /** The tsbuild root, where archive base images are loaded into the image store. */
  root: string;
  env?: NodeJS.ProcessEnv;
  signal?: AbortSignal;
  onProgress?: (e: TransferEvent) => void;
}

export async function resolveBaseImage(ref: string, opts: ResolveBaseOptions): Promise<ResolvedBase> {
  if (ref.startsWith("oci-layout://")) {
    const { dir, ref: tag } = parseOciLayoutRef(ref);
    const img = await loadOciLayoutImage(dir, { store: opts.store, platform: opts.platform, ...(tag ? { ref: tag } : {}) });
    return { ref, name: ref, digest: img.descriptor.digest, manifest: img.manifest, config: img.config };
  }
  const archive = /^(docker-archive|oci-archive):\/\/(.+)$/.exec(ref);
  if (archive) {
    // A docker-archive or OCI tar: loaded into the store like `tsbuild load`, then used.
    const [first] = await loadImageArchive(archive[2]!, { root: opts.root });
    if (!first) throw new TsbuildError("build/empty-archive", `${archive[2]} holds no image`);
    const img = await readImage(opts.store, first.descriptor, { platform: opts.platform });
    return { ref, name: ref, digest: img.descriptor.digest, manifest: img.manifest, config: img.config };
  }
  const name = normalizeImageName(ref);
  const local = opts.pull ? undefined : opts.images.get(name);
  if (local) {
    const img = await readImage(opts.store, local.descriptor, { platform: opts.platform });
    return { ref, name, digest: img.descriptor.digest, manifest: img.manifest, config: img.config };
  }
  const pulled = await pullImage(ref, {
    store: opts.store,
    platform: opts.platform,
    ...(opts.insecureRegistries ? { insecureRegistries: opts.insecureRegistries } : {}),
    ...(opts.mirrors ? { mirrors: opts.mirrors } : {}),
    ...(opts.env ? { env: opts.env } : {}),
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  // Keep the name pointing at what was pulled (the index when there was one, as docker does).
  let top = pulled.manifestDescriptor;
  if (pulled.indexDigest) {
    const bytes = await opts.store.readBlob(pulled.indexDigest);
    const mediaType = (JSON.parse(bytes.toString("utf8")) as { mediaType?: string }).mediaType ?? MEDIA_TYPE_OCI_INDEX;
    top = { mediaType, digest: pulled.indexDigest, size: bytes.length };
  }
  if (!name.includes("@")) opts.images.put(name, top);
  return { ref, name, digest: pulled.digest, manifest: pulled.manifest, config: pulled.config };
}
