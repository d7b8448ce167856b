/**
 * The COPY/ADD vertex. The copied files go into a fresh layer directory (never into a mounted
 * root), resolved against the parent's merged view so symlinked destinations and existing
 * directories behave as in docker build; the directory becomes a committed snapshot.
 */
import { lchownSync, lutimesSync, chmodSync, lstatSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join, posix, relative } from "node:path";
import { computeCacheKey, type StepDescription } from "../../cache/cache-key.js";
import { capPaths, type StepInputs } from "../../cache/cache-index.js";
import { checksumContext } from "../../cache/context-checksum.js";
import type { ContextEntry } from "../../cache/walk-context.js";
import { StepError, TsbuildError } from "../../errors/index.js";
import type { Vertex } from "../../solver/types.js";
import { containsWildcards, copySources, selectSources, fetchUrlSource, type SelectedSource } from "../copy/index.js";
import type { CopyOptions } from "../copy/types.js";
import { fsAddon } from "../../internal/fs-addon.js";
import { hashLayerEarly } from "../assemble.js";
import { warmUpCreateFiles } from "../copy/create-files.js";
import { spreadNewDirsBelow } from "../copy/spread-dirs.js";
import { flattenedDir } from "../flattened.js";
import { MergedView } from "../merged-view.js";
import type { BuildServices, StepResult } from "../services.js";
import type { CopyStep } from "../steps.js";
import { lookupCached, recordResult } from "./cache-lookup.js";
import { resolveChownInView } from "./chown.js";

interface Resolved {
  key: string;
  srcRoot: string;
  selection: SelectedSource[];
  chown?: { uid: number; gid: number };
  /** Built only when a miss must be explained or a result recorded (10k path digests are not free). */
  inputs: () => StepInputs;
  /** Entry digest per source path (relative to srcRoot). */
  paths: Map<string, string>;
  /** The parent's merged view (destination and --chown lookups). */
  view: MergedView;
  /** Bytes of the selected files: the layer's size, without walking it again. */
  bytes: number;
  /** How many entries the selection holds. */
  files: number;
  /** A layer directory already written while the checksum was computed (see copyAheadWanted). */
  precopied?: string;
}

/**
 * A large copy: its directory is spread by the allocator hint (spread-dirs.ts) and its layer is
 * hashed in the background as soon as it is committed (hashLayerEarly); smaller ones hash in
 * tens of milliseconds when the image is assembled.
 */
const LARGE_COPY_BYTES = 32 << 20;
const LARGE_COPY_FILES = 2048;

export function copyVertex(step: CopyStep, parentId: string, sourceId: string | undefined, svc: BuildServices): Vertex<StepResult> {
  let resolved: Resolved | undefined;
  return {
    id: `copy:${parentId}:${sourceId ?? "context"}:${JSON.stringify([step.isAdd, step.sources, step.contents, step.dest, step.workdir, step.chown, step.chmod, step.parents, step.exclude, step.checksum])}`,
    name: step.name,
    inputs: sourceId ? [parentId, sourceId] : [parentId],
    location: step.location,
    async lookup(inputs, ctx) {
      const [parent, source] = inputs as [StepResult, StepResult | undefined];
      resolved = await resolveCopy(step, parent, source, svc, ctx.signal);
      return lookupCached(svc, step, resolved.key, parent, resolved.inputs);
    },
    async exec(inputs) {
      const [parent] = inputs as [StepResult];
      const r = resolved!;
      let layerDir = r.precopied;
      try {
        layerDir ??= await copyIntoLayerDir(step, svc, r, await reuseFromPreviousBuild(step, r, svc));
        keepParentDirMetadata(layerDir, r.view, destinationIn(r.view, step));
        const name = `copy-${r.key}`;
        await svc.snapshotter.importDir(name, layerDir, parent.snapshot ?? undefined);
        if (r.bytes >= LARGE_COPY_BYTES || r.files >= LARGE_COPY_FILES) {
          // Copies never set xattrs; ADD's extracted archives may carry them.
          hashLayerEarly(svc, name, await svc.snapshotter.diffDir(name), { withoutXattrs: !step.isAdd });
        }
        return recordResult(svc, step, r.key, parent, name, r.inputs, r.bytes);
      } catch (err) {
        throw asStepError(err, step);
      } finally {
        if (layerDir) rmSync(layerDir, { recursive: true, force: true });
      }
    },
  };
}

function asStepError(err: unknown, step: CopyStep): unknown {
  return err instanceof TsbuildError && !(err instanceof StepError)
    ? new StepError(err.code, err.message, { location: step.location, step: step.name, cause: err })
    : err;
}

/** Copies the selection into a new directory under the build's scratch dir (removed again on failure). */
async function copyIntoLayerDir(
  step: CopyStep,
  svc: BuildServices,
  r: Pick<Resolved, "selection" | "view" | "chown" | "files">,
  extra: Pick<CopyOptions, "reuse" | "onContentDigest">,
): Promise<string> {
  if (r.files >= LARGE_COPY_FILES) {
    warmUpCreateFiles(r.files);
    spreadNewDirsBelow(svc.tmpDir);
  }
  const layerDir = mkdtempSync(join(svc.tmpDir, "copy-"));
  try {
    await copySources(r.selection, layerDir, {
      dest: destinationIn(r.view, step),
      workdir: "/",
      ...(r.chown ? { chown: r.chown } : {}),
      ...(step.chmod ? { chmod: step.chmod } : {}),
      parents: step.parents,
      isAdd: step.isAdd && step.unpack !== false,
      ...extra,
    });
    return layerDir;
  } catch (err) {
    rmSync(layerDir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * Copy ahead: a large COPY from the context that this root has never built, with no file known
 * to the stat cache, must read every file for its checksum and will then miss the cache and read
 * every file again to copy it (nothing recorded could hold its key unless another Dockerfile built
 * the same step, and then only the copy is wasted). So it is copied first, and the checksum takes
 * each file's content digest from the bytes the copy read: one read of the context instead of two.
 * Measured on the large-context cold build (25,000 files / 250 MB): see the commit adding this.
 */
function copyAheadWanted(step: CopyStep, svc: BuildServices, srcRoot: string, entries: readonly ContextEntry[]): boolean {
  if (process.env.TSBUILD_NO_COPY_AHEAD || step.isAdd || srcRoot !== svc.contextDir || entries.length < LARGE_COPY_FILES) return false;
  if (svc.cacheIndex.lastForStep(step.stepId) !== undefined) return false;
  return !entries.some((e) => e.type === "file" && svc.statCache.lookup(e.path, e) !== undefined);
}

/** Selects the sources, computes their checksum and the step's cache key. */
async function resolveCopy(step: CopyStep, parent: StepResult, source: StepResult | undefined, svc: BuildServices, signal: AbortSignal): Promise<Resolved> {
  const fromContext = step.from.kind === "context";
  let srcRoot = fromContext ? svc.contextDir : await flattenedDir(svc, source!);
  let paths = step.sources;
  const urls = step.isAdd ? paths.filter(isUrl) : [];
  if (urls.length || step.contents.length) {
    // Inline heredoc files and downloads are staged in a scratch dir and copied from there.
    srcRoot = mkdtempSync(join(svc.tmpDir, "src-"));
    for (const c of step.contents) writeFileSync(join(srcRoot, posix.basename(c.path)), c.data, { mode: 0o644 });
    for (const url of urls) await fetchUrlSource(url, srcRoot, { ...(step.checksum ? { checksum: step.checksum } : {}), signal });
    if (paths.length > urls.length) throw new TsbuildError("build/mixed-sources", `${step.name}: mixing URLs or heredocs with local paths is not supported`);
    paths = [...step.contents.map((c) => posix.basename(c.path)), ...urls.map(urlFileName)];
  }
  const view = new MergedView(parent.snapshot ? (await svc.snapshotter.chain(parent.snapshot)).reverse() : []);
  const chown = step.chown ? resolveChownInView(step.chown, view) : undefined;
  let selection: SelectedSource[];
  try {
    const ignore = fromContext && srcRoot === svc.contextDir ? svc.ignore : undefined;
    selection = await selectSources(srcRoot, paths, { exclude: step.exclude, parents: step.parents, keepOwnership: !fromContext && !urls.length, ...(ignore ? { ignore } : {}) });
  } catch (err) {
    throw new StepError(err instanceof TsbuildError ? err.code : "build/copy-source", `failed to calculate checksum: ${(err as Error).message}`, { location: step.location, step: step.name, cause: err });
  }
  if (fromContext && srcRoot === svc.contextDir) selection = withoutIgnored(selection, svc, step);
  // The selection's own lstat, with the paths relative to the source root and the ownership the
  // copy will give (never a second lstat). A source at the root without --chown is that already:
  // its entries are used as they are (25,000 objects fewer on the large-context no-op).
  const entries: ContextEntry[] = [];
  for (const sel of selection) {
    const base = sel.path.replace(/^\/+/, "");
    if (!base && !chown) {
      for (const f of sel.files) entries.push(f);
      continue;
    }
    for (const f of sel.files) {
      const path = !f.path ? base : base ? `${base}/${f.path}` : f.path;
      entries.push({ ...f, path, uid: chown?.uid ?? f.uid, gid: chown?.gid ?? f.gid });
    }
  }
  let precopied: string | undefined;
  const ahead: { contentDigests?: Map<string, string>; startedAt?: bigint } = {};
  if (copyAheadWanted(step, svc, srcRoot, entries)) {
    const startedAt = BigInt(Date.now()) * 1_000_000n; // before the copy reads anything (the racy rule)
    const digests = new Map<string, string>();
    const prefix = srcRoot.endsWith("/") ? srcRoot : `${srcRoot}/`;
    const onContentDigest = (src: string, digest: string) => digests.set(src.startsWith(prefix) ? src.slice(prefix.length) : relative(srcRoot, src), digest);
    // The copy reads the files in selection order on two threads: the kernel reads them ahead.
    fsAddon()?.prefetch(entries.flatMap((e) => (e.type === "file" && e.size > 0 ? [prefix + e.path] : [])).join("\0"));
    try {
      precopied = await copyIntoLayerDir(step, svc, { selection, view, files: entries.length, ...(chown ? { chown } : {}) }, { onContentDigest });
      Object.assign(ahead, { contentDigests: digests, startedAt });
    } catch {
      // Left to exec, which copies again after the cache lookup and reports what went wrong then.
    }
  }
  const sum = checksumContext(srcRoot, entries, srcRoot === svc.contextDir ? { statCache: svc.statCache, deferSave: true, ...ahead } : {});
  if (srcRoot === svc.contextDir) saveStatCacheSoon(svc);
  const description: StepDescription = {
    kind: "copy",
    isAdd: step.isAdd,
    dest: step.dest,
    workdir: step.workdir,
    ...(step.chown ? { chown: step.chown } : {}),
    ...(step.chmod ? { chmod: step.chmod } : {}),
    link: step.link,
    parents: step.parents,
    exclude: step.exclude,
    ...(step.isAdd ? { unpack: step.unpack !== false } : {}),
    sources: [{ fromKey: fromContext ? null : source!.key, paths: step.sources, checksum: sum.checksum }],
  };
  let built: StepInputs | undefined;
  const inputs = (): StepInputs =>
    (built ??= {
      sources: step.sources,
      checksum: sum.checksum,
      ...capPaths(sum.paths),
      other: copyOther(step, fromContext ? "context" : source!.key),
    });
  const bytes = entries.reduce((n, e) => n + (e.type === "file" ? e.size : 0), 0);
  const result: Resolved = {
    key: computeCacheKey({ parent: parent.key, step: description }),
    srcRoot,
    selection,
    inputs,
    // Only a miss needs the per-path digests; a whole-selection stat-cache hit computes them on first use.
    get paths() {
      return sum.paths;
    },
    view,
    bytes,
    files: entries.length,
  };
  if (chown) result.chown = chown;
  if (precopied) result.precopied = precopied;
  return result;
}

/**
 * How long after a context checksum its new stat-cache entries are written: by then the step's
 * result is committed and the next step's process started, so the main thread, which would
 * otherwise wait for that process, formats and writes them (after a cold COPY of the large
 * context: 25,000 lines, ~130 ms with their garbage collection in the CPU profile, that were on
 * the critical path). The build saves whatever is still unsaved when it ends.
 */
const STAT_CACHE_SAVE_DELAY_MS = 50;
const saveScheduled = new WeakSet<BuildServices>();

function saveStatCacheSoon(svc: BuildServices): void {
  if (saveScheduled.has(svc)) return;
  saveScheduled.add(svc);
  const timer = setTimeout(() => {
    saveScheduled.delete(svc);
    try {
      svc.statCache.save();
    } catch {
      // Only a cache; the build's own save at its end reports a lasting failure.
    }
  }, STAT_CACHE_SAVE_DELAY_MS);
  timer.unref();
}

/** What besides its sources decides where and how a COPY writes (recorded for explanations). */
function copyOther(step: CopyStep, from: string): Record<string, string> {
  return { dest: step.dest, workdir: step.workdir, chown: step.chown ?? "", chmod: step.chmod ?? "", from };
}

/**
 * Incremental COPY: when the last build of this same step copied the same sources to the same
 * place, files whose entry digest is unchanged are hard-linked from that (immutable) result
 * instead of copied again — one changed file in a large context re-copies that file only.
 */
async function reuseFromPreviousBuild(step: CopyStep, r: Resolved, svc: BuildServices): Promise<{ reuse?: (src: string, destRel: string) => string | undefined }> {
  if (r.srcRoot !== svc.contextDir) return {};
  const prevKey = svc.cacheIndex.lastForStep(step.stepId);
  const prev = prevKey === undefined ? undefined : svc.cacheIndex.get(prevKey);
  const was = prev?.step.inputs;
  const sameTarget = JSON.stringify({ ...was?.other, from: "" }) === JSON.stringify(copyOther(step, ""));
  if (!prev || !was?.paths || was.pathsTruncated || JSON.stringify(was.sources) !== JSON.stringify(step.sources) || !sameTarget) return {};
  if (!(await svc.snapshotter.stat(prev.snapshot))) return {};
  const prevDir = await svc.snapshotter.diffDir(prev.snapshot);
  const before = was.paths;
  return {
    reuse: (src, destRel) => {
      const rel = relative(svc.contextDir, src);
      const digest = r.paths.get(rel);
      return digest !== undefined && before[rel] === digest ? join(prevDir, destRel) : undefined;
    },
  };
}

/**
 * A source that .dockerignore excludes is not in the context: a wildcard simply does not match
 * it, a literal path is "not found" (files below a source were already left out by selection).
 */
function withoutIgnored(selection: SelectedSource[], svc: BuildServices, step: CopyStep): SelectedSource[] {
  return selection.filter((sel) => {
    const base = sel.path.replace(/^\/+/, "");
    if (!base || !svc.isIgnored(base)) return true;
    if (containsWildcards(sel.source)) return false;
    throw new StepError("build/copy-source", `failed to calculate checksum: "/${base}": not found (excluded by .dockerignore)`, { location: step.location, step: step.name });
  });
}

/** The destination resolved through the parent's symlinks; a directory there means "copy into". */
function destinationIn(view: MergedView, step: CopyStep): string {
  const abs = posix.resolve(step.workdir, step.dest);
  const trailing = step.dest.endsWith("/") || step.dest === "." || step.dest.endsWith("/.");
  const resolved = view.resolve(abs);
  const isDir = view.lstat(resolved)?.isDirectory() ?? false;
  return resolved + (trailing || (isDir && resolved !== "/") ? "/" : "");
}

/**
 * Directories the copy created only as parents of the destination must look as they do below
 * (mode, owner, mtime), or this layer would change them in the image.
 */
function keepParentDirMetadata(layerDir: string, view: MergedView, dest: string): void {
  const parts = dest.split("/").filter(Boolean);
  for (let i = 1; i < parts.length + (dest.endsWith("/") ? 1 : 0); i++) {
    const p = "/" + parts.slice(0, i).join("/");
    const below = view.lstat(p);
    const here = safeLstat(join(layerDir, p));
    if (!below?.isDirectory() || !here?.isDirectory()) continue;
    chmodSync(join(layerDir, p), below.mode & 0o7777);
    lchownSync(join(layerDir, p), below.uid, below.gid);
    lutimesSync(join(layerDir, p), below.atime, below.mtime);
  }
}

function safeLstat(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

function isUrl(s: string): boolean {
  return /^https?:\/\//i.test(s);
}

function urlFileName(url: string): string {
  const name = posix.basename(new URL(url).pathname);
  return name || "index.html";
}

