/**
 * Builds small but real images in a content store for the registry tests: a gzip'd tar layer
 * holding the given files, an image config, and an OCI or Docker manifest (and indexes).
 */
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import type { ContentStore } from "../../image/content-store.js";
import {
  MEDIA_TYPE_DOCKER_CONFIG,
  MEDIA_TYPE_DOCKER_LAYER_GZIP,
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_OCI_CONFIG,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_OCI_LAYER_GZIP,
  MEDIA_TYPE_OCI_MANIFEST,
  type Descriptor,
  type ImageConfig,
  type Index,
  type Manifest,
  type Platform,
} from "../../image/types.js";
import { sha256Digest } from "../../internal/digest.js";

export async function makeLayerTar(files: Record<string, string | Uint8Array>): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  const done = new Promise<void>((resolve, reject) => {
    p.on("data", (c: unknown) => {
      chunks.push(c as Buffer);
    });
    p.on("end", resolve);
    p.on("error", reject);
  });
  for (const [name, content] of Object.entries(files)) {
    const data = typeof content === "string" ? Buffer.from(content) : Buffer.from(content);
    p.entry({ name, size: data.length, mode: 0o644, mtime: new Date(0) }, data);
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

export interface TestImage {
  descriptor: Descriptor;
  manifest: Manifest;
  manifestBytes: Buffer;
  config: ImageConfig;
  configDescriptor: Descriptor;
  layers: Descriptor[];
}

export interface MakeImageOptions {
  /** One layer per entry. */
  layers: Record<string, string | Uint8Array>[];
  platform?: Platform;
  docker?: boolean;
}

async function put(store: ContentStore, mediaType: string, bytes: Uint8Array, platform?: Platform): Promise<Descriptor> {
  const { digest, size } = await store.writeBlob(bytes);
  return platform ? { mediaType, digest, size, platform } : { mediaType, digest, size };
}

export async function makeImage(store: ContentStore, opts: MakeImageOptions): Promise<TestImage> {
  const platform = opts.platform ?? { os: "linux", architecture: "amd64" };
  const layers: Descriptor[] = [];
  const diffIds: `sha256:${string}`[] = [];
  for (const files of opts.layers) {
    const tar = await makeLayerTar(files);
    diffIds.push(sha256Digest(tar));
    layers.push(await put(store, opts.docker ? MEDIA_TYPE_DOCKER_LAYER_GZIP : MEDIA_TYPE_OCI_LAYER_GZIP, gzipSync(tar)));
  }
  const config: ImageConfig = {
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: { Cmd: ["/bin/sh"] },
    rootfs: { type: "layers", diff_ids: diffIds },
  };
  const configDescriptor = await put(store, opts.docker ? MEDIA_TYPE_DOCKER_CONFIG : MEDIA_TYPE_OCI_CONFIG, Buffer.from(JSON.stringify(config)));
  const mediaType = opts.docker ? MEDIA_TYPE_DOCKER_MANIFEST : MEDIA_TYPE_OCI_MANIFEST;
  const manifest: Manifest = { schemaVersion: 2, mediaType, config: configDescriptor, layers };
  const manifestBytes = Buffer.from(JSON.stringify(manifest));
  const descriptor = await put(store, mediaType, manifestBytes);
  return { descriptor, manifest, manifestBytes, config, configDescriptor, layers };
}

/** An OCI index over images, each entry carrying its platform. */
export async function makeIndex(store: ContentStore, images: { image: TestImage; platform: Platform }[]): Promise<{ descriptor: Descriptor; index: Index }> {
  const index: Index = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPE_OCI_INDEX,
    manifests: images.map(({ image, platform }) => ({ ...image.descriptor, platform })),
  };
  const descriptor = await put(store, MEDIA_TYPE_OCI_INDEX, Buffer.from(JSON.stringify(index)));
  return { descriptor, index };
}
