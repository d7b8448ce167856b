/**
 * Push: blobs first (HEAD to skip what the registry has, cross-repository mount when a source
 * repository is known, then a monolithic PUT or PATCH chunks), manifests last. For an index the
 * platform manifests go by digest and the index by tag.
 */
import { createReadStream } from "node:fs";
import { open } from "node:fs/promises";
import pLimit from "p-limit";
import type { ContentStore } from "../image/content-store.js";
import { TsbuildError } from "../errors/index.js";
import {
  MEDIA_TYPE_DOCKER_MANIFEST_LIST,
  MEDIA_TYPE_OCI_INDEX,
  type Descriptor,
  type Index,
  type Manifest,
} from "../image/types.js";
import { sha256Digest, type Digest } from "../internal/digest.js";
import { RegistryClient, expectStatus, repoScope, type Endpoint } from "./client.js";
import { RegistryError } from "./errors.js";
import { parseReference, type ImageReference } from "./reference.js";
import type { PushOptions, PushResult, TransferEvent } from "./types.js";

const DEFAULT_CHUNK_SIZE = 64 * 1024 * 1024;
const INDEX_TYPES = new Set([MEDIA_TYPE_OCI_INDEX, MEDIA_TYPE_DOCKER_MANIFEST_LIST]);

/** `other/repo` or `host/other/repo` on the same registry → the repository path; else undefined. */
export function mountSource(mountFrom: string | undefined, target: ImageReference): string | undefined {
  if (!mountFrom) return undefined;
  try {
    const parsed = parseReference(mountFrom);
    if (parsed.registry === target.registry) return parsed.repository === target.repository ? undefined : parsed.repository;
  } catch {
    // not a reference: maybe a bare repository path, checked below
  }
  return /^[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*)*$/.test(mountFrom) && mountFrom !== target.repository
    ? mountFrom
    : undefined;
}

class Pusher {
  private readonly ep: Endpoint;
  private readonly scopes: string[];
  private readonly limit: ReturnType<typeof pLimit>;
  private readonly pushed = new Map<Digest, Promise<void>>();

  constructor(
    private readonly client: RegistryClient,
    private readonly ref: ImageReference,
    private readonly store: ContentStore,
    private readonly emit: (e: TransferEvent) => void,
    private readonly from: string | undefined,
    private readonly chunkSize: number,
    concurrency: number,
  ) {
    this.ep = client.origin(ref.registry);
    this.scopes = [repoScope(ref.repository, "pull,push")];
    if (from) this.scopes.push(repoScope(from, "pull"));
    this.limit = pLimit(concurrency);
  }

  private path(rest: string): string {
    return `/v2/${this.ref.repository}/${rest}`;
  }

  private async localBytes(desc: Descriptor): Promise<Buffer> {
    if (!this.store.has(desc.digest)) {
      throw new TsbuildError("registry/missing-content", `cannot push ${this.ref}: ${desc.mediaType} ${desc.digest} is not in the local content store`);
    }
    const bytes = await this.store.readBlob(desc.digest);
    if (sha256Digest(bytes) !== desc.digest || bytes.length !== desc.size) {
      throw new TsbuildError("registry/digest-mismatch", `local content ${desc.digest} does not match its descriptor (${bytes.length} bytes, want ${desc.size})`);
    }
    return bytes;
  }

  /** Pushes one blob at most once per push, however many manifests name it. */
  blob(desc: Descriptor): Promise<void> {
    let p = this.pushed.get(desc.digest);
    if (!p) {
      p = this.limit(() => this.uploadBlob(desc));
      this.pushed.set(desc.digest, p);
    }
    return p;
  }

  private async uploadBlob(desc: Descriptor): Promise<void> {
    const { digest, size } = desc;
    const what = `push blob ${digest} to ${this.ref.name}`;
    if (this.store.size(digest) !== size) {
      throw new TsbuildError("registry/missing-content", `cannot push ${this.ref}: blob ${digest} (${size} bytes) is not in the local content store`);
    }
    const head = await this.client.request(this.ep, { method: "HEAD", path: this.path(`blobs/${digest}`), scopes: this.scopes });
    if (head.status === 200) {
      this.emit({ kind: "blob-exists", digest, size });
      return;
    }
    if (head.status !== 404) await expectStatus(head, [200, 404], `check blob ${digest} in ${this.ref.name}`, this.ref.name);

    let location: string;
    if (this.from) {
      const query = new URLSearchParams({ mount: digest, from: this.from });
      const res = await this.client.request(this.ep, { method: "POST", path: this.path(`blobs/uploads/?${query}`), scopes: this.scopes });
      await expectStatus(res, [201, 202], `mount blob ${digest} from ${this.from}`, this.ref.name);
      if (res.status === 201) {
        this.emit({ kind: "blob-mounted", digest, from: this.from });
        return;
      }
      location = this.location(res, what);
    } else {
      const res = await this.client.request(this.ep, { method: "POST", path: this.path("blobs/uploads/"), scopes: this.scopes });
      await expectStatus(res, [202], `${what}: start upload`, this.ref.name);
      location = this.location(res, what);
    }

    await this.store.ensure(digest); // a lazily stored layer is written only now that a registry lacks it
    this.emit({ kind: "blob-start", digest, size, mediaType: desc.mediaType });
    try {
      if (size > this.chunkSize) location = await this.patchChunks(location, desc);
      const body = size > this.chunkSize ? new Uint8Array(0) : () => createReadStream(this.store.blobPath(digest));
      const res = await this.client.request(this.ep, {
        method: "PUT",
        path: withQuery(location, "digest", digest),
        headers: { "Content-Type": "application/octet-stream", "Content-Length": String(size > this.chunkSize ? 0 : size) },
        body,
        scopes: this.scopes,
      });
      await expectStatus(res, [201], what, this.ref.name);
    } catch (err) {
      // Tell the registry to drop the half-done session; it would expire anyway.
      await this.client.request(this.ep, { method: "DELETE", path: location, scopes: this.scopes }).catch(() => undefined);
      throw err;
    }
    this.emit({ kind: "blob-done", digest, size });
  }

  /** Sends the blob in PATCH requests with inclusive Content-Range; returns the final session URL. */
  private async patchChunks(start: string, desc: Descriptor): Promise<string> {
    let location = start;
    const fh = await open(this.store.blobPath(desc.digest), "r");
    try {
      for (let offset = 0; offset < desc.size; ) {
        const length = Math.min(this.chunkSize, desc.size - offset);
        const chunk = Buffer.alloc(length);
        const { bytesRead } = await fh.read(chunk, 0, length, offset);
        if (bytesRead !== length) throw new TsbuildError("registry/missing-content", `blob ${desc.digest} shrank while being pushed`);
        const res = await this.client.request(this.ep, {
          method: "PATCH",
          path: location,
          headers: {
            "Content-Type": "application/octet-stream",
            "Content-Range": `${offset}-${offset + length - 1}`,
            "Content-Length": String(length),
          },
          body: chunk,
          scopes: this.scopes,
        });
        await expectStatus(res, [202], `push blob ${desc.digest} to ${this.ref.name}: chunk at ${offset}`, this.ref.name);
        location = this.location(res, `push blob ${desc.digest}`);
        offset += length;
        this.emit({ kind: "blob-progress", digest: desc.digest, current: offset, total: desc.size });
      }
    } finally {
      await fh.close();
    }
    return location;
  }

  private location(res: Response, what: string): string {
    const loc = res.headers.get("location");
    if (!loc) throw new RegistryError("registry/bad-response", `${what}: the registry gave no upload Location`);
    return new URL(loc, this.ep.baseUrl + this.path("blobs/uploads/")).href;
  }

  async putManifest(desc: Descriptor, bytes: Buffer, tagOrDigest: string): Promise<void> {
    const res = await this.client.request(this.ep, {
      method: "PUT",
      path: this.path(`manifests/${tagOrDigest}`),
      headers: { "Content-Type": desc.mediaType },
      body: bytes,
      scopes: this.scopes,
    });
    await expectStatus(res, [200, 201], `push manifest ${this.ref.name}:${tagOrDigest}`, this.ref.name);
    const echoed = res.headers.get("docker-content-digest");
    if (echoed && echoed !== desc.digest) {
      throw new RegistryError("registry/digest-mismatch", `registry stored manifest ${this.ref.name}:${tagOrDigest} as ${echoed}, expected ${desc.digest}`);
    }
    this.emit({ kind: "manifest-pushed", digest: desc.digest, reference: `${this.ref.name}${tagOrDigest.startsWith("sha256:") ? "@" : ":"}${tagOrDigest}` });
  }

  /** Pushes a manifest or index and everything below it; the top one by `tagOrDigest`. */
  async tree(desc: Descriptor, tagOrDigest: string): Promise<void> {
    const bytes = await this.localBytes(desc);
    let json: Partial<Manifest & Index>;
    try {
      json = JSON.parse(bytes.toString("utf8")) as Partial<Manifest & Index>;
    } catch (err) {
      throw new TsbuildError("registry/bad-manifest", `local manifest ${desc.digest} is not valid JSON`, { cause: err });
    }
    if (INDEX_TYPES.has(desc.mediaType) || Array.isArray(json.manifests)) {
      await Promise.all((json.manifests ?? []).map((child) => this.tree(child, child.digest)));
    } else {
      if (!json.config || !Array.isArray(json.layers)) throw new TsbuildError("registry/bad-manifest", `local manifest ${desc.digest} has no config or layers`);
      await Promise.all([json.config, ...json.layers].map((b) => this.blob(b)));
    }
    await this.putManifest(desc, bytes, tagOrDigest);
  }
}

function withQuery(url: string, key: string, value: string): string {
  const u = new URL(url);
  u.searchParams.append(key, value);
  return u.href;
}

/** Pushes the manifest or index `opts.descriptor` (and its blobs) from the store to `opts.ref`. */
export async function pushImage(opts: PushOptions): Promise<PushResult> {
  const ref = parseReference(opts.ref);
  const desc = opts.descriptor;
  if (ref.digest && ref.digest !== desc.digest) {
    throw new TsbuildError("usage", `cannot push ${desc.digest} as ${ref}: the reference names another digest`);
  }
  const client = new RegistryClient(opts);
  const chunkSize = opts.chunkSize && opts.chunkSize > 0 ? opts.chunkSize : DEFAULT_CHUNK_SIZE;
  const pusher = new Pusher(client, ref, opts.store, opts.onProgress ?? (() => {}), mountSource(opts.mountFrom, ref), chunkSize, opts.concurrency ?? 3);
  await pusher.tree(desc, ref.digest ? desc.digest : (ref.tag ?? "latest"));
  return { digest: desc.digest, size: desc.size, reference: `${ref.name}${ref.tag ? `:${ref.tag}` : ""}@${desc.digest}` };
}
