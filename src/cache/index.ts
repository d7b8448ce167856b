export { blake3Hex, createBlake3, type Blake3 } from "./hash.js";
export {
  CACHE_KEY_VERSION,
  computeCacheKey,
  canonicalStep,
  canonicalEnv,
  type CacheKey,
  type CopySource,
  type KeyPlatform,
  type MountDescription,
  type StepDescription,
} from "./cache-key.js";
export { walkContext, statEntry, type ContextEntry, type WalkOptions } from "./walk-context.js";
export { RACY_WINDOW_NS, contextIdentity, openStatCache, type StatCache, type StatTuple } from "./stat-cache.js";
export {
  checksumContext,
  entryDigest,
  hashFile,
  type ChecksumEntry,
  type ChecksumOptions,
  type ContextChecksum,
} from "./context-checksum.js";
export {
  MAX_RECORDED_PATHS,
  capPaths,
  openCacheIndex,
  stepIdentity,
  type CacheIndex,
  type CacheRecord,
  type StepInputs,
  type StepSummary,
} from "./cache-index.js";
export { explainMiss } from "./explain-miss.js";
export { computeUsage, pruneCache, type PruneOptions, type PruneResult, type Usage, type UsageEntry } from "./prune.js";
export { formatSize, humanDuration, parseDuration, parseSize } from "./units.js";
