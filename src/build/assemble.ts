/**
 * Turns the final stage's result into an image in the content store: layer blobs for every
 * snapshot layer (packed once per snapshot and compression, then remembered; uncompressed ones
 * are only hashed and stored lazily, written when an export or push reads them), base layers reused
 * as they are, the config with diff IDs and history, and the manifest.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { buildManifest, type BuiltManifest } from "../image/manifest.js";
import { withSourceDateEpoch, withCreated } from "../image/config.js";
import { FsUtil, hashLayer, layerMediaType, writeLayer } from "../image/layer/index.js";
import type { Descriptor, Digest, Image, ImageConfig, MediaTypes } from "../image/types.js";
import { writeFileAtomic } from "../internal/atomic-write.js";
import { ROOT_DIRS } from "../internal/root.js";
import type { BuildServices, StepResult } from "./services.js";

export type LayerCompression = "none" | "gzip" | "zstd";

export interface AssembleOptions {
  compression: LayerCompression;
  mediaTypes: MediaTypes;
  sourceDateEpoch?: number;
  /** Build time for `created` when no SOURCE_DATE_EPOCH is set (RFC 3339). */
  createdAt: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  onLayer?: (snapshot: string, packed: boolean) => void;
}

/** Builds and stores the image; returns the manifest (and config) as written to the store. */
export async function assembleImage(svc: BuildServices, result: StepResult, stageConfig: ImageConfig, opts: AssembleOptions): Promise<BuiltManifest> {
  const layers: Descriptor[] = [];
  const diffIds: Digest[] = [];
  // One fsutil process reads the xattrs of every layer packed here (a spawn per layer adds up).
  let fsutil: FsUtil | undefined;
  try {
    for (const l of result.layers) {
      // Base image layers keep their blobs as pulled, whatever compression they use.
      if (l.base) {
        layers.push(l.base.descriptor);
        diffIds.push(l.base.diffId);
        continue;
      }
      const packed = await packSnapshot(svc, l.snapshot, opts, () => (fsutil ??= new FsUtil()));
      layers.push(packed.descriptor);
      diffIds.push(packed.diffId);
    }
  } finally {
    await fsutil?.close();
  }
  const historyBefore = stageConfig.history ?? [];
  let config: ImageConfig = {
    ...stageConfig,
    rootfs: { type: "layers", diff_ids: diffIds },
    history: historyBefore.map((h) => (h.created ? h : { ...h, created: opts.createdAt })),
  };
  if (opts.labels && Object.keys(opts.labels).length) config = { ...config, config: { ...config.config, Labels: { ...(config.config.Labels ?? {}), ...opts.labels } } };
  config = opts.sourceDateEpoch !== undefined ? withSourceDateEpoch(config, opts.sourceDateEpoch) : withCreated(config, opts.createdAt);
  const image: Image = { config, layers };
  const built = buildManifest(image, { mediaTypes: opts.mediaTypes, ...(opts.annotations ? { annotations: opts.annotations } : {}) });
  await svc.store.writeBlob(built.configBytes, { digest: built.configDescriptor.digest, size: built.configDescriptor.size });
  await svc.store.writeBlob(built.manifestBytes, { digest: built.descriptor.digest, size: built.descriptor.size });
  return built;
}

interface PackedLayer {
  descriptor: Descriptor;
  diffId: Digest;
}

/** The layer blob of a snapshot, packed at most once per compression (and SOURCE_DATE_EPOCH). */
async function packSnapshot(svc: BuildServices, snapshot: string, opts: AssembleOptions, fsutil: () => FsUtil): Promise<PackedLayer> {
  const memo = join(svc.root, ROOT_DIRS.cache, "layers", `${snapshot}.${opts.compression}${opts.sourceDateEpoch !== undefined ? `.sde${opts.sourceDateEpoch}` : ""}.${opts.mediaTypes}.json`);
  if (existsSync(memo)) {
    const known = JSON.parse(readFileSync(memo, "utf8")) as PackedLayer;
    if (svc.store.has(known.descriptor.digest)) {
      opts.onLayer?.(snapshot, false);
      return known;
    }
  }
  const dir = await svc.snapshotter.diffDir(snapshot);
  if (opts.compression === "none") {
    // The local store never reads its layers: record how to write the blob and hash it only.
    const sde = opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {};
    // The fsutil process is started only if the JavaScript writer has to read xattrs.
    const { diffId, size } = (await takeEarlyHash(svc, snapshot, opts.sourceDateEpoch)) ?? (await hashLayer(dir, { fsutil, ...sde }));
    svc.store.putLazy({ digest: diffId, size }, { kind: "layer-tar", dir: relative(svc.store.dir, dir), snapshot, ...sde });
    const packed: PackedLayer = { descriptor: { mediaType: layerMediaType("none", opts.mediaTypes), digest: diffId, size }, diffId };
    writeFileAtomic(memo, JSON.stringify(packed));
    opts.onLayer?.(snapshot, true);
    return packed;
  }
  const written = await writeLayer(dir, {
    store: svc.store,
    compression: opts.compression,
    mediaTypes: opts.mediaTypes,
    fsutil: fsutil(),
    ...(opts.sourceDateEpoch !== undefined ? { sourceDateEpoch: opts.sourceDateEpoch } : {}),
  });
  const packed: PackedLayer = { descriptor: written.descriptor, diffId: written.diffId };
  writeFileAtomic(memo, JSON.stringify(packed));
  opts.onLayer?.(snapshot, true);
  return packed;
}

/**
 * A layer's uncompressed diffID, computed in the background right after its step committed the
 * snapshot: before its walk, every 2,048 walked entries and between 1 MiB tar chunks it gives way
 * to the build's other work (the next steps mostly wait for their processes; the machine's
 * second core runs those). Once the image is assembled and needs it, it runs without pausing;
 * when the build ends without taking it, it stops at its next pause.
 */
class EarlyHash {
  private urgent = false;
  /** Aborted by cancel(): stops the native hasher, and the JavaScript one at its next pause. */
  private readonly abort = new AbortController();
  readonly result: Promise<{ diffId: Digest; size: number }>;

  constructor(
    dir: string,
    readonly sourceDateEpoch: number | undefined,
    withoutXattrs: boolean,
  ) {
    const sde = sourceDateEpoch !== undefined ? { sourceDateEpoch } : {};
    this.result = hashLayer(dir, { ...sde, withoutXattrs, pace: () => this.pause(), signal: this.abort.signal });
    this.result.catch(() => {}); // a failure is handled (by hashing again) when the hash is taken
  }

  /** The result, from now on computed without pausing. */
  take(): Promise<{ diffId: Digest; size: number }> {
    this.urgent = true;
    return this.result;
  }

  cancel(): void {
    this.abort.abort();
  }

  private pause(): Promise<void> | undefined {
    if (this.abort.signal.aborted) return Promise.reject(new Error("layer hash no longer needed"));
    if (this.urgent) return undefined;
    // A referenced immediate: an unreferenced one waits for the next I/O event of the loop.
    return new Promise((resolve) => setImmediate(resolve));
  }
}

const earlyHashes = new WeakMap<BuildServices, Map<string, EarlyHash>>();

/**
 * Starts hashing the layer of a just-committed snapshot for the local image (uncompressed,
 * SOURCE_DATE_EPOCH from the build's environment), for assembleImage to take; `withoutXattrs`
 * when the step wrote no xattrs (see HashPacing). Large-context
 * cold (one 25k-file COPY, then a RUN): the layer hash overlaps the RUN step.
 */
export function hashLayerEarly(svc: BuildServices, snapshot: string, dir: string, opts: { withoutXattrs: boolean }): void {
  const env = svc.env.SOURCE_DATE_EPOCH;
  const sde = env ? Number(env) : undefined;
  if (sde !== undefined && (!Number.isInteger(sde) || sde < 0)) return; // the build will reject it
  let forBuild = earlyHashes.get(svc);
  if (!forBuild) earlyHashes.set(svc, (forBuild = new Map()));
  if (!forBuild.has(snapshot)) forBuild.set(snapshot, new EarlyHash(dir, sde, opts.withoutXattrs));
}

/** The early hash of `snapshot` if one was started with this SOURCE_DATE_EPOCH and succeeded. */
async function takeEarlyHash(svc: BuildServices, snapshot: string, sde: number | undefined): Promise<{ diffId: Digest; size: number } | undefined> {
  const early = earlyHashes.get(svc)?.get(snapshot);
  if (!early || early.sourceDateEpoch !== sde) return undefined;
  earlyHashes.get(svc)!.delete(snapshot);
  return early.take().catch(() => undefined);
}

/** Stops the early hashes no image took (a failed build, layers of other stages). */
export function dropEarlyHashes(svc: BuildServices): void {
  for (const early of earlyHashes.get(svc)?.values() ?? []) early.cancel();
  earlyHashes.delete(svc);
}
