/**
 * Everything a build's steps need at run time, gathered once per build by build.ts. The step
 * builders in ops/ take this bundle instead of reaching for globals.
 */
import type { CacheIndex } from "../cache/cache-index.js";
import type { PatternMatcher } from "../parser/dockerignore/index.js";
import type { StatCache } from "../cache/stat-cache.js";
import type { ContentStore } from "../image/content-store.js";
import type { Descriptor, Digest, Platform } from "../image/types.js";
import type { Executor } from "../exec/types.js";
import type { Snapshotter } from "../exec/snapshot/index.js";
import type { BuildStats } from "./types.js";

export interface BuildServices {
  root: string;
  /** Scratch space for this build on the root's filesystem; removed when the build ends. */
  tmpDir: string;
  store: ContentStore;
  snapshotter: Snapshotter;
  executor: Executor;
  cacheIndex: CacheIndex;
  statCache: StatCache;
  contextDir: string;
  /** True for context paths (relative, slash-separated) that .dockerignore excludes. */
  isIgnored: (relPath: string) => boolean;
  /** The compiled .dockerignore, when there is one (selection skips ignored directories with it). */
  ignore?: PatternMatcher;
  platform: Platform;
  noCache: boolean;
  /** Stage display names whose steps ignore the cache. */
  noCacheStages: ReadonlySet<string>;
  secrets: ReadonlyMap<string, { file?: string; env?: string }>;
  sshSockets: ReadonlyMap<string, string>;
  resources?: { memoryBytes?: number; cpus?: number };
  env: NodeJS.ProcessEnv;
  stats: BuildStats;
  /** Flattened trees of committed snapshots, made on demand for COPY --from and mounts. */
  flattened: Map<string, Promise<string>>;
}

/** One layer of a result: the committed snapshot holding its changes, and for base image layers
 * the blob it came from (so exports reuse it instead of re-packing). */
export interface LayerRef {
  snapshot: string;
  base?: { descriptor: Descriptor; diffId: Digest };
}

/** What every build vertex produces. */
export interface StepResult {
  /** The cache key of this result. */
  key: string;
  /** The committed snapshot holding the merged result; null for an empty (scratch) root. */
  snapshot: string | null;
  layers: LayerRef[];
  /** When this result was first made (ms): the image's `created` on a no-op rebuild stays stable. */
  createdAt: number;
  /** True when this build executed the step (false or absent: taken from the cache). */
  ran?: boolean;
}
