/**
 * The library contract of `build()`. Field names mirror the CLI flags; outputs and secrets accept
 * the CLI's CSV strings or typed objects, so CLI and library share one parser.
 */
import type { ProgressListener } from "../progress/types.js";
import type { Descriptor, Platform } from "../image/types.js";

export type OutputSpec =
  | { type: "oci" | "docker"; dest: string; tar?: boolean; name?: string; compression?: "gzip" | "uncompressed" | "zstd" }
  | { type: "local"; dest: string }
  | { type: "tar"; dest: string }
  | { type: "image" | "registry"; name?: string; push?: boolean; insecure?: boolean };

export type SecretSpec = { id: string; src?: string; env?: string };

export interface BuildOptions {
  /** The build context directory. */
  context: string;
  /** Dockerfile path (relative to cwd), "-" with `dockerfileText`, default CONTEXT/Dockerfile or CONTEXT/Containerfile. */
  file?: string;
  /** The Dockerfile text itself (for `-f -`); `file` then only names it in messages. */
  dockerfileText?: string;
  tags?: string[];
  /** `K=V` strings or a map; a value of undefined takes the variable from `env`. */
  buildArgs?: Record<string, string | undefined> | string[];
  target?: string;
  platform?: string;
  labels?: Record<string, string>;
  /** Annotations for the manifest (`--annotation k=v`). */
  annotations?: Record<string, string>;
  secrets?: (SecretSpec | string)[];
  /** SSH agent sockets: "default" or "id=path". */
  ssh?: string[];
  network?: "default" | "none" | "host";
  noCache?: boolean;
  /** Stage names whose steps ignore the cache. */
  noCacheFilter?: string[];
  /** Ask registries for newer base images even when the local store has them. */
  pull?: boolean;
  outputs?: (OutputSpec | string)[];
  /** Push every tag after the build (`--push`). */
  push?: boolean;
  /** Load the image into a running Docker engine after the build (`--load`, `docker load`). */
  load?: boolean;
  /** Registries reached over plain http besides localhost. */
  insecureRegistries?: string[];
  /**
   * Maximum steps executing at once. Default: the CPU count, and more while CPUs sit idle (steps
   * that sleep or wait on the network); a number given here is a hard limit.
   */
  parallelism?: number;
  /** The tsbuild root (cache, snapshots, images); default TSBUILD_ROOT or ~/.local/share/tsbuild. */
  root?: string;
  /** Seconds since the epoch; default the SOURCE_DATE_EPOCH variable of `env`. */
  sourceDateEpoch?: number;
  /** Per-RUN resource limits. */
  memoryBytes?: number;
  cpus?: number;
  env?: NodeJS.ProcessEnv;
  /** Where `--output …,dest=-` writes its tar; default process.stdout. */
  stdout?: NodeJS.WritableStream;
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}

/** Counts of the steps a build ran or took from cache, for benchmarks and summaries. */
export interface BuildStats {
  /** RUN, COPY, ADD and WORKDIR steps looked up in the cache (FROM not counted). */
  steps: number;
  cached: number;
  /** Each step that missed the cache and why. */
  misses: { name: string; reason: string }[];
  /** Every step in the order it was looked up: cached, or the reason it ran. */
  log: { name: string; cached: boolean; reason?: string }[];
}

export interface BuildResult {
  /** The manifest digest (`containerimage.digest`). */
  digest: string;
  /** The config digest: the image ID (`containerimage.config.digest`). */
  configDigest: string;
  descriptor: Descriptor;
  platform: Platform;
  /** Normalised image names it was stored (and pushed) under. */
  names: string[];
  /** What `--metadata-file` writes. */
  metadata: Record<string, unknown>;
  warnings: string[];
  stats: BuildStats;
}
