/** The FROM vertex: unpacks a base image's layers into committed snapshots, once per chain ID. */
import { mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { computeCacheKey } from "../../cache/cache-key.js";
import { applyLayer } from "../../image/layer/index.js";
import type { Descriptor, Digest, ImageConfig, Manifest, Platform } from "../../image/types.js";
import { sha256Digest } from "../../internal/digest.js";
import type { Vertex } from "../../solver/types.js";
import type { BuildServices, LayerRef, StepResult } from "../services.js";

/** A base image, resolved: its blobs are in the content store. */
export interface ResolvedBase {
  /** The reference as the Dockerfile wrote it (after ARG expansion). */
  ref: string;
  /** The normalised name shown to users (`docker.io/library/busybox:latest`). */
  name: string;
  /** Manifest digest. */
  digest: Digest;
  manifest: Manifest;
  config: ImageConfig;
}

/** ChainIDs of a layer stack: chain(0) = diff(0); chain(n) = sha256(chain(n-1) + " " + diff(n)). */
export function chainIds(diffIds: Digest[]): Digest[] {
  const out: Digest[] = [];
  for (const d of diffIds) out.push(out.length === 0 ? d : sha256Digest(`${out[out.length - 1]} ${d}`));
  return out;
}

export function baseVertexId(base: ResolvedBase, platform: Platform): string {
  return `base:${base.digest}:${platform.os}/${platform.architecture}`;
}

export function baseVertex(base: ResolvedBase, name: string, svc: BuildServices): Vertex<StepResult> {
  const diffIds = base.config.rootfs.diff_ids;
  const chains = chainIds(diffIds);
  const layers: LayerRef[] = base.manifest.layers.map((descriptor: Descriptor, i) => ({
    snapshot: `layer-${chains[i]!.slice(7)}`,
    base: { descriptor, diffId: diffIds[i]! },
  }));
  const result: StepResult = {
    key: computeCacheKey({ parent: null, step: { kind: "base", ref: base.ref, digest: base.digest, platform: svc.platform } }),
    snapshot: layers.length ? layers[layers.length - 1]!.snapshot : null,
    layers,
    createdAt: base.config.created ? Date.parse(base.config.created) || 0 : 0,
  };
  return {
    id: baseVertexId(base, svc.platform),
    name,
    inputs: [],
    async lookup() {
      for (const l of layers) if (!(await svc.snapshotter.stat(l.snapshot))) return { hit: false, reason: "base image layers not unpacked yet" };
      return { hit: true, result };
    },
    async exec(_inputs, ctx) {
      let parent: string | undefined;
      for (const l of layers) {
        if (!(await svc.snapshotter.stat(l.snapshot))) {
          ctx.status(`extracting ${l.base!.descriptor.digest}`, 0, l.base!.descriptor.size);
          const dir = mkdtempSync(join(svc.tmpDir, "layer-"));
          try {
            await svc.store.ensure(l.base!.descriptor.digest); // a layer of a locally built image may be stored lazily
            const { diffId } = await applyLayer(svc.store.blobPath(l.base!.descriptor.digest), dir, { mediaType: l.base!.descriptor.mediaType });
            if (diffId !== l.base!.diffId) throw new Error(`layer ${l.base!.descriptor.digest} has diffID ${diffId}, the image config says ${l.base!.diffId}`);
            await svc.snapshotter.importDir(l.snapshot, dir, parent);
          } finally {
            rmSync(dir, { recursive: true, force: true });
          }
          ctx.status(`extracting ${l.base!.descriptor.digest}`, l.base!.descriptor.size, l.base!.descriptor.size, true);
        }
        parent = l.snapshot;
      }
      return result;
    },
  };
}

/** The empty root of `FROM scratch`. */
export function scratchVertex(svc: BuildServices): Vertex<StepResult> {
  const result: StepResult = {
    key: computeCacheKey({ parent: null, step: { kind: "base", ref: "scratch", digest: null, platform: svc.platform } }),
    snapshot: null,
    layers: [],
    createdAt: 0,
  };
  return { id: "scratch", name: "scratch", inputs: [], hidden: true, exec: async () => result };
}
