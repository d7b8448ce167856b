/** Helpers for the image tests: a small real layer (gzip tar) in a content store, and an image on it. */
import { gzipSync } from "node:zlib";
import { pack } from "tar-stream";
import { sha256Digest } from "../internal/digest.js";
import type { ContentStore } from "./content-store.js";
import { appendLayer, newImage, withConfig, withSourceDateEpoch } from "./config.js";
import { buildManifest, type BuiltManifest } from "./manifest.js";
import { MEDIA_TYPE_OCI_LAYER_GZIP, type MediaTypes } from "./types.js";

/** A tar holding `files` (path → text), with fixed times, as one buffer. */
export async function tarOf(files: Record<string, string>): Promise<Buffer> {
  const p = pack();
  const chunks: Buffer[] = [];
  p.on("data", (c: unknown) => void chunks.push(c as Buffer));
  const done = new Promise<void>((res) => p.on("end", () => res()));
  for (const [name, text] of Object.entries(files)) {
    p.entry({ name, mode: 0o644, mtime: new Date(0), uid: 0, gid: 0 }, text);
  }
  p.finalize();
  await done;
  return Buffer.concat(chunks);
}

/** Stores a one-layer image (gzip layer with `files`) and its config and manifest. */
export async function storeTestImage(
  store: ContentStore,
  files: Record<string, string>,
  opts: { mediaTypes?: MediaTypes; cmd?: string[] } = {},
): Promise<BuiltManifest> {
  const tar = await tarOf(files);
  const gz = gzipSync(tar, { level: 6 });
  const blob = await store.writeBlob(gz);
  let image = newImage({ os: "linux", architecture: "amd64" });
  image = appendLayer(image, {
    diffId: sha256Digest(tar),
    descriptor: { mediaType: MEDIA_TYPE_OCI_LAYER_GZIP, digest: blob.digest, size: blob.size },
    history: { created_by: "COPY files / # buildkit", comment: "buildkit.dockerfile.v0" },
  });
  image = { ...image, config: withSourceDateEpoch(withConfig(image.config, { Cmd: opts.cmd ?? ["/bin/sh"], Env: ["PATH=/bin"] }), 0) };
  const built = buildManifest(image, opts.mediaTypes ? { mediaTypes: opts.mediaTypes } : {});
  await store.writeBlob(built.configBytes);
  await store.writeBlob(built.manifestBytes);
  return built;
}
