/**
 * `tsbuild load` / `tsbuild save`: image tars in and out of the local image store. Load reads a
 * docker-archive (Docker 25+ layout form or the legacy `<id>/layer.tar` form) or an OCI layout tar,
 * detected by content, optionally gzip-compressed; every blob is ingested with digest checks.
 */
import { createReadStream } from "node:fs";
import { posix } from "node:path";
import { PassThrough, type Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createGunzip } from "../internal/lazy-node.js";
import { extract } from "tar-stream";
import { TsbuildError } from "../errors/index.js";
import type { Digest } from "../internal/digest.js";
import type { ContentStore } from "./content-store.js";
import { writeDockerArchive } from "./docker-archive.js";
import { normalizeImageName } from "./image-name.js";
import { openImageStore } from "./image-store.js";
import { appendLayer } from "./config.js";
import { buildManifest, parseConfig, parseIndex, parseManifest, isIndexMediaType } from "./manifest.js";
import { writeOciTar } from "./oci-layout.js";
import { reachableBlobs } from "./read-image.js";
import type { TarDestination } from "./layout-tar.js";
import {
  ANNOTATION_CONTAINERD_IMAGE_NAME,
  ANNOTATION_REF_NAME,
  MEDIA_TYPE_DOCKER_LAYER,
  MEDIA_TYPE_DOCKER_LAYER_GZIP,
  type Descriptor,
  type Image,
  type Platform,
} from "./types.js";
import type { DockerManifestEntry } from "./docker-archive.js";

export interface LoadedImage {
  /** Full name recorded in the store; undefined for an image the archive does not name. */
  name?: string;
  descriptor: Descriptor;
}

const SMALL_FILES = new Set(["manifest.json", "index.json", "oci-layout", "repositories"]);

/** What one pass over the tar collected. */
interface ArchiveScan {
  files: Map<string, Buffer>;
  /** Archive path → digest of what was ingested from it (blobs and legacy layer tars). */
  ingested: Map<string, { digest: Digest; size: number; gzip: boolean }>;
  links: Map<string, string>;
}

/** Loads an image tar (path or stream) into the image store under `root`. */
export async function loadImageArchive(input: string | Readable, opts: { root: string }): Promise<LoadedImage[]> {
  const images = openImageStore(opts.root);
  const scan = await scanArchive(typeof input === "string" ? createReadStream(input) : input, images.content);
  const loaded = scan.files.has("manifest.json") ? await fromDockerArchive(scan, images.content) : await fromLayout(scan, images.content);
  for (const l of loaded) if (l.name) images.put(l.name, l.descriptor);
  return loaded;
}

async function scanArchive(src: Readable, store: ContentStore): Promise<ArchiveScan> {
  const scan: ArchiveScan = { files: new Map(), ingested: new Map(), links: new Map() };
  const x = extract();
  const consume = (async () => {
    for await (const entry of x) {
      const name = posix.normalize(entry.header.name).replace(/^\.?\//, "");
      if (entry.header.type === "symlink" || entry.header.type === "link") {
        const target = entry.header.type === "symlink" ? posix.join(posix.dirname(name), entry.header.linkname) : entry.header.linkname;
        scan.links.set(name, posix.normalize(target ?? ""));
        entry.resume();
        continue;
      }
      if (entry.header.type !== "file" && entry.header.type !== "contiguous-file") {
        entry.resume();
        continue;
      }
      const blob = /^blobs\/sha256\/([0-9a-f]{64})$/.exec(name);
      if (blob || name.endsWith("/layer.tar") || name.endsWith(".tar")) {
        const expected = blob ? { digest: `sha256:${blob[1]}` as Digest, size: entry.header.size } : {};
        let first: number | undefined;
        const sniff = async function* () {
          for await (const c of entry as AsyncIterable<Buffer>) {
            if (first === undefined && c.length >= 2) first = (c[0]! << 8) | c[1]!;
            yield c;
          }
        };
        const info = await store.ingest(sniff(), expected);
        scan.ingested.set(name, { ...info, gzip: first === 0x1f8b });
      } else if (SMALL_FILES.has(name) || name.endsWith(".json")) {
        const chunks: Buffer[] = [];
        for await (const c of entry as AsyncIterable<Buffer>) chunks.push(c);
        scan.files.set(name, Buffer.concat(chunks));
      } else {
        entry.resume();
      }
    }
  })();
  const head = await peek(src);
  const gz = head[0] === 0x1f && head[1] === 0x8b;
  const sink = x as unknown as Writable;
  const piped = gz ? pipeline(head.stream, createGunzip(), sink) : pipeline(head.stream, sink);
  await Promise.all([
    piped,
    consume.catch((err: unknown) => {
      x.destroy(err as Error);
      throw err;
    }),
  ]);
  if (scan.files.size === 0 && scan.ingested.size === 0) {
    throw new TsbuildError("image/bad-archive", "the archive holds no image (no manifest.json, index.json or blobs)");
  }
  return scan;
}

/** Reads the first bytes of a stream and gives back a stream that still starts with them. */
async function peek(src: Readable): Promise<Buffer & { stream: Readable }> {
  const out = new PassThrough();
  const it = src[Symbol.asyncIterator]();
  const first = await it.next();
  const buf = first.done ? Buffer.alloc(0) : Buffer.from(first.value as Buffer);
  (async () => {
    try {
      if (!first.done) out.write(buf);
      for (let r = await it.next(); !r.done; r = await it.next()) {
        if (!out.write(r.value)) await new Promise((res) => out.once("drain", res));
      }
      out.end();
    } catch (err) {
      out.destroy(err as Error);
    }
  })();
  return Object.assign(buf, { stream: out as Readable });
}

function resolvePath(scan: ArchiveScan, p: string): string {
  let cur = posix.normalize(p);
  for (let i = 0; i < 8 && scan.links.has(cur); i++) cur = scan.links.get(cur)!;
  return cur;
}

/** Names from index.json: the containerd name, else a ref.name that is a full reference. */
function layoutNames(d: Descriptor): string[] {
  const full = d.annotations?.[ANNOTATION_CONTAINERD_IMAGE_NAME];
  if (full) return [normalizeImageName(full)];
  const ref = d.annotations?.[ANNOTATION_REF_NAME];
  if (ref && /[/:]/.test(ref)) {
    try {
      return [normalizeImageName(ref)];
    } catch {
      return [];
    }
  }
  return [];
}

async function fromLayout(scan: ArchiveScan, store: ContentStore): Promise<LoadedImage[]> {
  const indexBytes = scan.files.get("index.json");
  if (!indexBytes || !scan.files.has("oci-layout")) {
    throw new TsbuildError("image/bad-archive", "not a docker-archive or OCI layout tar (no manifest.json, or no oci-layout and index.json)");
  }
  const out: LoadedImage[] = [];
  for (const d of parseIndex(indexBytes, "index.json").manifests) {
    await checkComplete(store, d);
    const names = layoutNames(d);
    const descriptor: Descriptor = { mediaType: d.mediaType, digest: d.digest, size: d.size };
    if (names.length === 0) out.push({ descriptor });
    for (const name of names) out.push({ name, descriptor });
  }
  return out;
}

async function checkComplete(store: ContentStore, d: Descriptor): Promise<void> {
  for (const b of await reachableBlobs(store, d)) {
    if (!store.has(b.digest)) throw new TsbuildError("image/bad-archive", `the archive lacks blob ${b.digest}`);
  }
}

async function fromDockerArchive(scan: ArchiveScan, store: ContentStore): Promise<LoadedImage[]> {
  const entries = JSON.parse(scan.files.get("manifest.json")!.toString("utf8")) as DockerManifestEntry[];
  const layoutIndex = scan.files.has("index.json") ? parseIndex(scan.files.get("index.json")!, "index.json").manifests : [];
  const out: LoadedImage[] = [];
  for (const e of entries) {
    const descriptor = (await matchLayoutEntry(store, layoutIndex, e)) ?? (await legacyManifest(scan, store, e));
    const tags = (e.RepoTags ?? []).map(normalizeImageName);
    if (tags.length === 0) out.push({ descriptor });
    for (const name of tags) out.push({ name, descriptor });
  }
  return out;
}

/** In a Docker 25+ archive, the index.json entry whose manifest has this entry's config. */
async function matchLayoutEntry(store: ContentStore, index: Descriptor[], e: DockerManifestEntry): Promise<Descriptor | undefined> {
  const cfg = /blobs\/sha256\/([0-9a-f]{64})$/.exec(e.Config)?.[1];
  if (!cfg) return undefined;
  for (const d of index) {
    if (isIndexMediaType(d.mediaType) || !store.has(d.digest)) continue;
    const m = parseManifest(await store.readBlob(d.digest));
    if (m.config.digest === `sha256:${cfg}`) {
      await checkComplete(store, d);
      return { mediaType: d.mediaType, digest: d.digest, size: d.size };
    }
  }
  return undefined;
}

/** Builds a Docker schema2 manifest for a legacy entry (`<id>.json` + `<id>/layer.tar`). */
async function legacyManifest(scan: ArchiveScan, store: ContentStore, e: DockerManifestEntry): Promise<Descriptor> {
  const cfgPath = resolvePath(scan, e.Config);
  const cfgBytes = scan.files.get(cfgPath) ?? (scan.ingested.has(cfgPath) ? await store.readBlob(scan.ingested.get(cfgPath)!.digest) : undefined);
  if (!cfgBytes) throw new TsbuildError("image/bad-archive", `the archive lacks ${e.Config}`);
  const config = parseConfig(cfgBytes, e.Config);
  // rebuild the layer list from the files; the original config bytes are stored unchanged below
  let image: Image = { layers: [], config: { ...config, rootfs: { type: "layers", diff_ids: [] } } };
  for (const [i, p] of e.Layers.entries()) {
    const blob = scan.ingested.get(resolvePath(scan, p));
    if (!blob) throw new TsbuildError("image/bad-archive", `the archive lacks layer ${p}`);
    const diffId = config.rootfs.diff_ids[i];
    if (!diffId) throw new TsbuildError("image/bad-archive", `${e.Config} has fewer diff_ids than layers`);
    if (!blob.gzip && blob.digest !== diffId) {
      throw new TsbuildError("image/bad-archive", `layer ${p} is ${blob.digest}, but the config says ${diffId}`);
    }
    const mediaType = blob.gzip ? MEDIA_TYPE_DOCKER_LAYER_GZIP : MEDIA_TYPE_DOCKER_LAYER;
    image = appendLayer(image, { diffId, descriptor: { mediaType, digest: blob.digest, size: blob.size } });
  }
  // keep the original config bytes (its digest is the image ID) rather than re-serialising them
  const built = buildManifest(image, { mediaTypes: "docker" });
  const cfgInfo = await store.writeBlob(cfgBytes);
  const manifest = { ...built.manifest, config: { ...built.manifest.config, digest: cfgInfo.digest, size: cfgInfo.size } };
  const bytes = Buffer.from(JSON.stringify(manifest), "utf8");
  const m = await store.writeBlob(bytes);
  return { mediaType: manifest.mediaType!, digest: m.digest, size: m.size };
}

export interface SaveOptions {
  root: string;
  format?: "docker" | "oci";
  /** Platform picked from an index for docker-archive output (host by default). */
  platform?: Platform;
}

/** Writes the named images from the store to a tar (`docker load`-able, or an OCI layout tar). */
export async function saveImage(names: string[], dest: TarDestination, opts: SaveOptions): Promise<void> {
  const images = openImageStore(opts.root);
  const recs = names.map((n) => {
    const rec = images.get(n);
    if (!rec) throw new TsbuildError("image/not-found", `No such image: ${n}`);
    return rec;
  });
  if ((opts.format ?? "docker") === "oci") {
    await writeOciTar(dest, { store: images.content, manifests: recs.map((r) => ({ descriptor: r.descriptor, imageName: r.name })) });
    return;
  }
  // one manifest.json entry per image; names of the same image share it
  const byDigest = new Map<string, { manifest: Descriptor; repoTags: string[] }>();
  for (const r of recs) {
    const cur = byDigest.get(r.descriptor.digest) ?? { manifest: r.descriptor, repoTags: [] };
    if (!cur.repoTags.includes(r.name)) cur.repoTags.push(r.name);
    byDigest.set(r.descriptor.digest, cur);
  }
  await writeDockerArchive(dest, {
    store: images.content,
    images: [...byDigest.values()],
    ...(opts.platform ? { platform: opts.platform } : {}),
  });
}

