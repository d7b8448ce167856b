/**
 * Pull: resolve a reference to a manifest (choosing a platform from an index), then fetch the
 * config and layers into the content store. Every byte is checked against its digest; blobs the
 * store already holds are not downloaded again.
 */
import { createHash } from "../internal/lazy-node.js";
import { Readable } from "node:stream";
import pLimit from "p-limit";
import type { ContentStore } from "../image/content-store.js";
import { CancelledError, TsbuildError } from "../errors/index.js";
import {
  MEDIA_TYPE_DOCKER_MANIFEST,
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_OCI_INDEX,
  MEDIA_TYPE_OCI_MANIFEST,
  type Descriptor,
  type ImageConfig,
  type Index,
  type Manifest,
} from "../image/types.js";
import { isDigest, sha256Digest, type Digest } from "../internal/digest.js";
import { RegistryClient, expectStatus, repoScope, type Endpoint } from "./client.js";
import { RegistryError } from "./errors.js";
import { defaultPlatform, formatPlatformSpec, selectManifest } from "./platform.js";
import { parseReference, type ImageReference } from "./reference.js";
import type { PullOptions, PulledImage, TransferEvent } from "./types.js";

export const MANIFEST_ACCEPT = [MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_DOCKER_MANIFEST_LIST, MEDIA_TYPE_OCI_MANIFEST, MEDIA_TYPE_DOCKER_MANIFEST].join(", ");
const INDEX_TYPES = new Set([MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_DOCKER_MANIFEST_LIST]);
const MANIFEST_TYPES = new Set([MEDIA_TYPE_OCI_MANIFEST, MEDIA_TYPE_DOCKER_MANIFEST]);
/** The distribution spec says registries must accept manifests up to 4 MiB; refuse anything bigger. */
const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;

interface FetchedManifest {
  digest: Digest;
  mediaType: string;
  bytes: Buffer;
}

/** Tries each endpoint in turn (mirrors first); the last endpoint's error is the one reported. */
export async function tryEndpoints<T>(endpoints: Endpoint[], fn: (ep: Endpoint) => Promise<T>): Promise<T> {
  let last: unknown;
  for (const ep of endpoints) {
    try {
      return await fn(ep);
    } catch (err) {
      if (err instanceof CancelledError) throw err;
      last = err;
    }
  }
  throw last;
}

function mediaTypeOf(bytes: Buffer, header: string | null): string {
  let json: { mediaType?: unknown; manifests?: unknown; config?: unknown; schemaVersion?: unknown };
  try {
    json = JSON.parse(bytes.toString("utf8")) as typeof json;
  } catch {
    return (header ?? "").split(";")[0]!.trim();
  }
  if (typeof json.mediaType === "string" && json.mediaType) return json.mediaType;
  const fromHeader = (header ?? "").split(";")[0]!.trim();
  if (INDEX_TYPES.has(fromHeader) || MANIFEST_TYPES.has(fromHeader)) return fromHeader;
  if (Array.isArray(json.manifests)) return MEDIA_TYPE_OCI_INDEX;
  if (json.config) return MEDIA_TYPE_OCI_MANIFEST;
  return fromHeader;
}

function verifyBytes(bytes: Buffer, want: Digest, what: string, size?: number): void {
  const got = sha256Digest(bytes);
  if (got !== want || (size !== undefined && bytes.length !== size)) {
    throw new RegistryError(
      "registry/digest-mismatch",
      `${what}: content does not match its digest: expected ${want}${size !== undefined ? ` (${size} bytes)` : ""}, got ${got} (${bytes.length} bytes)`,
    );
  }
}

class Puller {
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly endpoints: Endpoint[];
  private readonly scopes: string[];
  constructor(
    private readonly client: RegistryClient,
    private readonly ref: ImageReference,
    private readonly store: ContentStore,
    private readonly emit: (e: TransferEvent) => void,
    concurrency: number,
  ) {
    this.limit = pLimit(concurrency);
    this.endpoints = client.pullEndpoints(ref.registry);
    this.scopes = [repoScope(ref.repository, "pull")];
  }

  private async readBody(res: Response, what: string): Promise<Buffer> {
    const len = Number(res.headers.get("content-length") ?? "0");
    if (len > MAX_MANIFEST_BYTES) throw new RegistryError("registry/manifest-too-large", `${what}: manifest is ${len} bytes, over the 4 MiB limit`);
    const bytes = Buffer.from(await res.arrayBuffer());
    if (bytes.length > MAX_MANIFEST_BYTES) throw new RegistryError("registry/manifest-too-large", `${what}: manifest is over the 4 MiB limit`);
    return bytes;
  }

  /** A manifest by digest: from the store if there, else from the registry, verified. */
  async manifestByDigest(digest: Digest, size?: number): Promise<FetchedManifest> {
    const what = `manifest ${this.ref.name}@${digest}`;
    if (this.store.has(digest)) {
      const bytes = await this.store.readBlob(digest);
      verifyBytes(bytes, digest, what, size);
      return { digest, bytes, mediaType: mediaTypeOf(bytes, null) };
    }
    return tryEndpoints(this.endpoints, async (ep) => {
      const res = await this.client.request(ep, {
        method: "GET",
        path: `/v2/${this.ref.repository}/manifests/${digest}`,
        headers: { Accept: MANIFEST_ACCEPT },
        scopes: this.scopes,
      });
      await expectStatus(res, [200], `get ${what}`, this.ref.name);
      const bytes = await this.readBody(res, what);
      verifyBytes(bytes, digest, what, size);
      await this.store.writeBlob(bytes, { digest });
      return { digest, bytes, mediaType: mediaTypeOf(bytes, res.headers.get("content-type")) };
    });
  }

  /** Resolves a tag with HEAD, falling back to GET (which also carries the registry's error). */
  async manifestByTag(tag: string): Promise<FetchedManifest> {
    const what = `manifest ${this.ref.name}:${tag}`;
    return tryEndpoints(this.endpoints, async (ep) => {
      const path = `/v2/${this.ref.repository}/manifests/${tag}`;
      const head = await this.client.request(ep, { method: "HEAD", path, headers: { Accept: MANIFEST_ACCEPT }, scopes: this.scopes });
      const headDigest = head.headers.get("docker-content-digest");
      if (head.status === 200 && headDigest && isDigest(headDigest)) {
        if (this.store.has(headDigest)) return this.manifestByDigest(headDigest);
      }
      const res = await this.client.request(ep, { method: "GET", path, headers: { Accept: MANIFEST_ACCEPT }, scopes: this.scopes });
      await expectStatus(res, [200], `get ${what}`, this.ref.name);
      const bytes = await this.readBody(res, what);
      const digest = sha256Digest(bytes);
      const claimed = res.headers.get("docker-content-digest");
      if (claimed && isDigest(claimed)) verifyBytes(bytes, claimed, what);
      await this.store.writeBlob(bytes, { digest });
      return { digest, bytes, mediaType: mediaTypeOf(bytes, res.headers.get("content-type")) };
    });
  }

  /** Downloads one blob into the store unless it is there; verified by the store and by us. */
  async blob(desc: Descriptor): Promise<void> {
    if (this.store.has(desc.digest) && this.store.size(desc.digest) === desc.size) {
      this.emit({ kind: "blob-exists", digest: desc.digest, size: desc.size });
      return;
    }
    const what = `blob ${this.ref.name}@${desc.digest}`;
    await tryEndpoints(this.endpoints, async (ep) => {
      const res = await this.client.request(ep, { method: "GET", path: `/v2/${this.ref.repository}/blobs/${desc.digest}`, scopes: this.scopes });
      await expectStatus(res, [200], `get ${what}`, this.ref.name);
      if (!res.body) throw new RegistryError("registry/empty-body", `get ${what}: empty response`);
      this.emit({ kind: "blob-start", digest: desc.digest, size: desc.size, mediaType: desc.mediaType });
      const hash = createHash("sha256");
      let current = 0;
      const emit = this.emit;
      const source = Readable.fromWeb(res.body as import("node:stream/web").ReadableStream<Uint8Array>);
      async function* counted(): AsyncGenerator<Uint8Array> {
        for await (const chunk of source as AsyncIterable<Uint8Array>) {
          hash.update(chunk);
          current += chunk.byteLength;
          emit({ kind: "blob-progress", digest: desc.digest, current, total: desc.size });
          yield chunk;
        }
      }
      try {
        await this.store.ingest(counted(), { digest: desc.digest, size: desc.size });
      } catch (err) {
        if (err instanceof TsbuildError && err.code === "store/digest-mismatch") {
          throw new RegistryError(
            "registry/digest-mismatch",
            `${what}: content does not match its digest: expected ${desc.digest} (${desc.size} bytes), got sha256:${hash.digest("hex")} (${current} bytes)`,
            { cause: err },
          );
        }
        throw err;
      }
      this.emit({ kind: "blob-done", digest: desc.digest, size: desc.size });
    });
  }

  blobs(descs: Descriptor[]): Promise<void[]> {
    return Promise.all(descs.map((d) => this.limit(() => this.blob(d))));
  }
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString("utf8")) as T;
  } catch (err) {
    throw new RegistryError("registry/bad-manifest", `${what} is not valid JSON: ${(err as Error).message}`, { cause: err });
  }
}

/** Pulls `ref` into `opts.store` and returns the selected manifest, config and layer list. */
export async function pullImage(refString: string, opts: PullOptions): Promise<PulledImage> {
  const ref = parseReference(refString);
  const client = new RegistryClient(opts);
  const emit = opts.onProgress ?? (() => {});
  const puller = new Puller(client, ref, opts.store, emit, opts.concurrency ?? 3);

  let top = ref.digest ? await puller.manifestByDigest(ref.digest) : await puller.manifestByTag(ref.tag ?? "latest");
  emit({ kind: "resolved", reference: ref.toString(), digest: top.digest, mediaType: top.mediaType });

  let indexDigest: Digest | undefined;
  let descriptor: Descriptor = { mediaType: top.mediaType, digest: top.digest, size: top.bytes.length };
  if (INDEX_TYPES.has(top.mediaType)) {
    const index = parseJson<Index>(top.bytes, `index ${ref}`);
    const want = opts.platform ?? defaultPlatform();
    const chosen = selectManifest(index.manifests ?? [], want);
    if (!chosen) {
      const have = (index.manifests ?? []).filter((m) => m.platform).map((m) => formatPlatformSpec(m.platform!));
      throw new RegistryError(
        "registry/no-matching-platform",
        `no image for platform ${formatPlatformSpec(want)} in ${ref}${have.length ? ` (it has ${have.join(", ")})` : ""}`,
      );
    }
    indexDigest = top.digest;
    descriptor = chosen;
    top = await puller.manifestByDigest(chosen.digest, chosen.size);
    if (!MANIFEST_TYPES.has(top.mediaType)) {
      throw new RegistryError("registry/unsupported-media-type", `${ref}: index entry ${chosen.digest} is ${top.mediaType}, not an image manifest`);
    }
  } else if (!MANIFEST_TYPES.has(top.mediaType)) {
    throw new RegistryError(
      "registry/unsupported-media-type",
      `${ref}: unsupported manifest media type ${top.mediaType || "(none)"}; expected an OCI or Docker schema2 manifest or index`,
    );
  }

  const manifest = parseJson<Manifest>(top.bytes, `manifest ${ref}`);
  if (!manifest.config || !isDigest(manifest.config.digest) || !Array.isArray(manifest.layers)) {
    throw new RegistryError("registry/bad-manifest", `manifest ${ref}@${top.digest} has no valid config or layers`);
  }
  await puller.blobs([manifest.config, ...manifest.layers]);
  const configBytes = await opts.store.readBlob(manifest.config.digest);
  const config = parseJson<ImageConfig>(configBytes, `image config ${manifest.config.digest}`);
  return {
    reference: ref.toString(),
    digest: top.digest,
    indexDigest,
    manifest,
    manifestBytes: top.bytes,
    manifestDescriptor: descriptor,
    config,
    configDescriptor: manifest.config,
    layers: manifest.layers,
  };
}
