/** The data the registry module takes and returns. */
import type { ContentStore } from "../image/content-store.js";
import type { Descriptor, Digest, ImageConfig, Manifest } from "../image/types.js";
import type { RegistryClientOptions } from "./client.js";
import type { PlatformSpec } from "./platform.js";

/** What pulls and pushes report as they go; plain data for progress renderers. */
export type TransferEvent =
  | { kind: "resolved"; reference: string; digest: Digest; mediaType: string }
  | { kind: "blob-start"; digest: Digest; size: number; mediaType: string }
  | { kind: "blob-progress"; digest: Digest; current: number; total: number }
  | { kind: "blob-done"; digest: Digest; size: number }
  /** Already there: in the local store (pull) or in the registry (push). */
  | { kind: "blob-exists"; digest: Digest; size: number }
  | { kind: "blob-mounted"; digest: Digest; from: string }
  | { kind: "manifest-pushed"; digest: Digest; reference: string };

export interface TransferOptions extends Omit<RegistryClientOptions, "signal"> {
  store: ContentStore;
  signal?: AbortSignal;
  onProgress?: (e: TransferEvent) => void;
}

export interface PullOptions extends TransferOptions {
  /** Which image to take from an index; default: this machine's platform. */
  platform?: PlatformSpec;
  /** Parallel blob downloads (default 3). */
  concurrency?: number;
}

export interface PulledImage {
  /** The normalised reference that was pulled, e.g. `docker.io/library/alpine:latest`. */
  reference: string;
  /** Digest of the image manifest actually selected. */
  digest: Digest;
  /** Digest of the index the manifest was selected from, when the reference named an index. */
  indexDigest?: Digest;
  manifest: Manifest;
  manifestBytes: Buffer;
  /** The descriptor of the selected manifest (media type, digest, size, platform if from an index). */
  manifestDescriptor: Descriptor;
  config: ImageConfig;
  configDescriptor: Descriptor;
  layers: Descriptor[];
}

export interface PushOptions extends TransferOptions {
  /** Where to push: `registry/repo:tag`, or `@digest` to push by digest only. */
  ref: string;
  /** The manifest or index to push; its bytes and everything it names come from the store. */
  descriptor: Descriptor;
  /** Another repository on the same registry that holds the blobs, for cross-repository mounts. */
  mountFrom?: string;
  /** Upload blobs larger than this in PATCH chunks of this size (default 64 MiB). */
  chunkSize?: number;
  /** Parallel blob uploads (default 3). */
  concurrency?: number;
}

export interface PushResult {
  /** Digest of the pushed manifest or index. */
  digest: Digest;
  size: number;
  /** `registry/repo:tag@digest`. */
  reference: string;
}
