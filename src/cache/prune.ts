import { openImageStore } from "../image/image-store.js";
import { reachableBlobs } from "../image/read-image.js";
import type { CacheKey } from "./cache-key.js";
import { openCacheIndex, type CacheRecord } from "./cache-index.js";

/** One cache record as `du` shows it. */
export interface UsageEntry {
  id: CacheKey;
  description: string;
  size: number;
  /** False when a running build holds it (`inUse`). */
  reclaimable: boolean;
  /** True when it is the latest result of some Dockerfile step (not dangling). */
  current: boolean;
  lastUsedAt: number;
  createdAt: number;
}

export interface Usage {
  entries: UsageEntry[];
  total: number;
  reclaimable: number;
}

/** Disk use of the cache by record, largest first. Sizes are those recorded at commit time. */
export function computeUsage(root: string, options: { inUse?: Set<string> } = {}): Usage {
  const index = openCacheIndex(root);
  const current = new Set(index.listSteps().map((s) => s.key));
  const entries = index.list().map((r): UsageEntry => ({
    id: r.key,
    description: r.step.description,
    size: r.size ?? 0,
    reclaimable: !isInUse(r, options.inUse),
    current: current.has(r.key),
    lastUsedAt: r.lastUsedAt,
    createdAt: r.createdAt,
  }));
  entries.sort((a, b) => b.size - a.size || (a.id < b.id ? -1 : 1));
  const total = entries.reduce((n, e) => n + e.size, 0);
  const reclaimable = entries.filter((e) => e.reclaimable).reduce((n, e) => n + e.size, 0);
  return { entries, total, reclaimable };
}

export interface PruneOptions {
  /** Also remove records that are the latest result of a step (default: dangling ones only). */
  all?: boolean;
  /** Stop once the cache holds at most this many bytes; least recently used go first. */
  keepStorageBytes?: number;
  /** Only remove records not used for at least this long (ms). */
  until?: number;
  /** Keys or snapshot names a running build holds; never removed. */
  inUse?: Set<string>;
  /** Removes a committed snapshot; should succeed when it is already gone. */
  removeSnapshot: (name: string) => Promise<void>;
  now?: number;
}

export interface PruneResult {
  removed: { id: CacheKey; size: number; description: string }[];
  /** Bytes freed (sum of the removed records' sizes). */
  reclaimed: number;
  /** Records that could not be removed, with why (the snapshot refused, e.g. still has children). */
  failed: { id: CacheKey; error: string }[];
}

/**
 * Removes cache records and their snapshots, following `docker buildx prune`:
 * - without `all`, only dangling records go: those that are no longer the latest result of any
 *   Dockerfile step (superseded by a newer build) — the cache of the last build stays;
 * - with `all`, every record not in use may go;
 * - `until` keeps records used more recently than that;
 * - `keepStorageBytes` removes least-recently-used first and stops at that total.
 * A record whose key is the parent of a record that stays is kept, since its snapshot is a parent
 * layer. Children are removed before their parents. A snapshot shared by a remaining record is
 * not removed.
 */
export async function pruneCache(root: string, options: PruneOptions): Promise<PruneResult> {
  const index = openCacheIndex(root);
  const now = options.now ?? Date.now();
  const records = index.list();
  const current = new Set(index.listSteps().map((s) => s.key));
  const eligible = (r: CacheRecord) =>
    !isInUse(r, options.inUse) &&
    (options.all || !current.has(r.key)) &&
    (options.until === undefined || r.lastUsedAt <= now - options.until);

  // Least recently used first; children before parents so a parent's snapshot is free to go.
  const order = [...records].sort((a, b) => a.lastUsedAt - b.lastUsedAt || (a.key < b.key ? -1 : 1));
  const children = new Map<string, Set<string>>();
  for (const r of records) {
    if (r.step.parentKey) children.set(r.step.parentKey, (children.get(r.step.parentKey) ?? new Set()).add(r.key));
  }
  const alive = new Set(records.map((r) => r.key));
  let total = records.reduce((n, r) => n + (r.size ?? 0), 0);
  const result: PruneResult = { removed: [], reclaimed: 0, failed: [] };
  const failed = new Set<string>();
  const overBudget = () => options.keepStorageBytes === undefined || total > options.keepStorageBytes;
  // Stored images may hold layers only as a recipe over a snapshot (content-store.ts): write
  // those blobs before the snapshot goes, so every stored image stays exportable. Layers no
  // stored image names are not written; their recipes just stop working.
  const images = openImageStore(root);
  let named: Promise<Set<string>> | undefined;
  const namedBlobs = async () => {
    const all = new Set<string>();
    for (const img of images.list()) for (const b of await reachableBlobs(images.content, img.descriptor).catch(() => [])) all.add(b.digest);
    return all;
  };
  const removeSnapshot = async (name: string) => {
    const keep = await (named ??= namedBlobs());
    await images.content.materializeLazy((recipe, d) => recipe.snapshot === name && keep.has(d));
    await options.removeSnapshot(name);
  };

  // Removing a child can free its parent, so repeat until a pass removes nothing.
  for (let changed = true; changed && overBudget(); ) {
    changed = false;
    for (const r of order) {
      if (!alive.has(r.key) || failed.has(r.key) || !eligible(r) || !overBudget()) continue;
      if ([...(children.get(r.key) ?? [])].some((c) => alive.has(c))) continue;
      const error = await removeRecord(index, r, records, alive, removeSnapshot);
      if (error) {
        result.failed.push({ id: r.key, error });
        failed.add(r.key); // stays on disk and alive, so its parents stay too
        continue;
      }
      total -= r.size ?? 0;
      result.removed.push({ id: r.key, size: r.size ?? 0, description: r.step.description });
      result.reclaimed += r.size ?? 0;
      changed = true;
    }
  }
  return result;
}

async function removeRecord(
  index: ReturnType<typeof openCacheIndex>,
  r: CacheRecord,
  records: CacheRecord[],
  alive: Set<string>,
  removeSnapshot: (name: string) => Promise<void>,
): Promise<string | undefined> {
  const shared = records.some((o) => o.key !== r.key && alive.has(o.key) && o.snapshot === r.snapshot);
  if (!shared) {
    try {
      await removeSnapshot(r.snapshot);
    } catch (err) {
      return (err as Error).message;
    }
  }
  index.delete(r.key);
  alive.delete(r.key);
  return undefined;
}

function isInUse(r: CacheRecord, inUse: Set<string> | undefined): boolean {
  return !!inUse && (inUse.has(r.key) || inUse.has(r.snapshot));
}
