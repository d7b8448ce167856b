/**
 * Choosing what a COPY/ADD takes from its source root (build context or another stage): each
 * source is cleaned and resolved inside the root, wildcards are expanded, and every selected entry
 * is listed with its metadata, minus `--exclude`d paths. The cache layer checksums this list and
 * copySources writes exactly it.
 */
import { lstat } from "./fs-sync.js";
import { join, posix, relative } from "node:path";
import type { BigIntStats } from "node:fs";
import { cleanPath, compilePatterns, type MatchInfo, type PatternMatcher } from "../../parser/dockerignore/index.js";
import { CopyError } from "./errors.js";
import { isMissing, resolveInRoot } from "./root-path.js";
import type { FileEntry, SelectedSource, SelectOptions } from "./types.js";
import { entryFrom, listDirectories } from "./dir-listing.js";
import { matchWildcard, splitWildcards } from "./wildcards.js";

/** Selects the sources of one COPY/ADD in `srcRoot`. Errors name the source as written. */
export async function selectSources(
  srcRoot: string,
  sources: readonly string[],
  opts: SelectOptions = {},
): Promise<SelectedSource[]> {
  const exclude = opts.exclude?.length ? compilePatterns(opts.exclude) : undefined;
  const out: SelectedSource[] = [];
  for (const source of sources) {
    checkInsideRoot(source);
    const { base, pattern } = splitSource(source, opts.parents === true);
    const baseHost = await resolveInRoot(srcRoot, base);
    const full = cleanPath(base + "/" + pattern);
    const { base: fixed, pattern: glob } = splitWildcards(full);
    const candidates: string[] = [];
    if (glob === "") {
      candidates.push(fixed);
    } else {
      const fixedHost = await resolveInRoot(srcRoot, fixed);
      await requireDir(fixedHost, fixed, source);
      for (const m of await matchWildcard(fixedHost, glob)) {
        if (exclude?.matches(m)) continue;
        candidates.push(toRootPath(srcRoot, join(fixedHost, m)));
      }
      if (candidates.length === 0 && opts.allowEmptyWildcard === false) {
        throw new CopyError("copy/not-found", `no source files were specified: ${JSON.stringify(source)} matches nothing`);
      }
    }
    for (const candidate of candidates) {
      const hostPath = await resolveInRoot(srcRoot, candidate);
      const st = await lstatOrNotFound(hostPath, source);
      const files = listEntries(hostPath, st, exclude, opts.keepOwnership === true, opts.ignore && { matcher: opts.ignore, prefix: toRootPath(srcRoot, hostPath).slice(1) });
      const selected: SelectedSource = {
        source,
        path: toRootPath(srcRoot, hostPath).slice(1),
        hostPath,
        name: posix.basename(candidate),
        files,
      };
      if (opts.parents) {
        let below = posix.relative(base, candidate);
        if (below.startsWith("..")) below = posix.basename(candidate); // moved by a symlink in the base
        selected.parents = { path: below, baseHostPath: baseHost, dirs: await parentDirs(baseHost, below, opts) };
      }
      out.push(selected);
    }
  }
  return out;
}

/** The directories between the `--parents` pivot and a selected path (`a`, `a/b` for `a/b/c`). */
async function parentDirs(baseHost: string, below: string, opts: SelectOptions): Promise<FileEntry[]> {
  const parts = below.split("/").slice(0, -1);
  const out: FileEntry[] = [];
  for (let i = 1; i <= parts.length; i++) {
    const rel = parts.slice(0, i).join("/");
    const host = join(baseHost, rel);
    out.push(entryFrom(rel, host, await lstat(host, { bigint: true }), opts.keepOwnership === true));
  }
  return out;
}

/** `..` may not climb out of the source root (BuildKit would silently clamp it; we refuse). */
function checkInsideRoot(source: string): void {
  if (!source.startsWith("/") && cleanPath(source).split("/")[0] === "..") {
    throw new CopyError("copy/outside-context", `source ${JSON.stringify(source)} is outside the build context`);
  }
}

/** With `--parents`, `/./` marks the pivot: what follows it is kept at the destination. */
function splitSource(source: string, parents: boolean): { base: string; pattern: string } {
  if (!parents) return { base: "/", pattern: source };
  const pivot = source.indexOf("/./");
  if (pivot < 0) return { base: "/", pattern: source };
  return { base: cleanPath("/" + source.slice(0, pivot)), pattern: source.slice(pivot + 3) };
}

async function requireDir(hostPath: string, rootPath: string, source: string): Promise<void> {
  const st = await lstatOrNotFound(hostPath, source, rootPath);
  if (!st.isDirectory()) {
    throw new CopyError("copy/not-found", `${JSON.stringify(rootPath)} is not a directory (in source ${JSON.stringify(source)})`);
  }
}

async function lstatOrNotFound(hostPath: string, source: string, shown = source): Promise<BigIntStats> {
  try {
    return await lstat(hostPath, { bigint: true });
  } catch (err) {
    if (isMissing(err)) {
      const path = cleanPath("/" + shown);
      const detail = shown === source ? "" : ` (in source ${JSON.stringify(source)})`;
      throw new CopyError("copy/not-found", `${JSON.stringify(path)}: not found${detail}`, { cause: err });
    }
    throw err;
  }
}

/** A host path under `root` as an absolute slash path inside it (`/a/b`). */
function toRootPath(root: string, hostPath: string): string {
  const rel = relative(root, hostPath);
  return rel === "" ? "/" : "/" + rel.split("\\").join("/");
}

/**
 * The entry and, for a directory, everything below it in name order, skipping excluded paths.
 * Synchronous and lean, because it runs on every build over every context file: one listing
 * per directory (dir-listing.ts); an excluded directory is never entered unless a `!pattern`
 * could re-include something below it.
 */
function listEntries(
  hostPath: string,
  st: BigIntStats,
  exclude: PatternMatcher | undefined,
  keepOwnership: boolean,
  ignore?: { matcher: PatternMatcher; prefix: string },
): FileEntry[] {
  const out: FileEntry[] = [entryFrom("", hostPath, st, keepOwnership)];
  if (!st.isDirectory()) return out;
  // The .dockerignore state of the source directory itself, from the context root down.
  let topIgnore: MatchInfo | undefined;
  if (ignore?.prefix) for (const p of prefixes(ignore.prefix)) topIgnore = ignore.matcher.matchesUsingParentResults(p, topIgnore).info;
  const ignorePrefix = ignore?.prefix ? `${ignore.prefix}/` : "";
  // Listed a level of the tree at a time (the native lister shares a level's directories between
  // two threads), then emitted depth first: each directory before its contents, names in byte order.
  const root = new WalkDir(hostPath.endsWith("/") ? hostPath.slice(0, -1) : hostPath, "", undefined, topIgnore, undefined);
  for (let level = [root]; level.length > 0; ) {
    const listings = listDirectories(level.map((d) => d.host));
    const next: WalkDir[] = [];
    for (let k = 0; k < level.length; k++) {
      const dir = level[k]!;
      const listing = listings[k]!;
      for (let i = 0; i < listing.names.length; i++) {
        const name = listing.names[i]!;
        const rel = dir.rel === "" ? name : `${dir.rel}/${name}`;
        // Pattern state is kept for directories only (their children start from it).
        const isDir = listing.isDir(i);
        // Set when a pattern excludes this path but may re-include below it: kept only as a directory.
        let onlyAsDir = false;
        let childExclude: MatchInfo | undefined;
        if (exclude) {
          let matched: boolean;
          if (isDir) ({ matched, info: childExclude } = exclude.matchesUsingParentResults(rel, dir.excludeInfo));
          else matched = exclude.matchedUsingParentResults(rel, dir.excludeInfo);
          if (matched) {
            if (!reincludesBelow(exclude, rel)) continue;
            onlyAsDir = true;
          }
        }
        let childIgnore: MatchInfo | undefined;
        if (ignore) {
          const rootRel = ignorePrefix + rel;
          let matched: boolean;
          if (isDir) ({ matched, info: childIgnore } = ignore.matcher.matchesUsingParentResults(rootRel, dir.ignoreInfo));
          else matched = ignore.matcher.matchedUsingParentResults(rootRel, dir.ignoreInfo);
          // An ignored directory is kept (as the parent) only when a `!pattern` re-includes something below it.
          if (matched) {
            if (!reincludesBelow(ignore.matcher, rootRel)) continue;
            onlyAsDir = true;
          }
        }
        if (!isDir && onlyAsDir) continue;
        const entry = listing.entry(i, rel, dir.host, keepOwnership);
        if (!isDir) {
          dir.kept.push(entry);
          continue;
        }
        const child = new WalkDir(`${dir.host}/${name}`, rel, childExclude, childIgnore, entry);
        dir.kept.push(child);
        next.push(child);
      }
    }
    level = next;
  }
  const emit = (dir: WalkDir): void => {
    for (const item of dir.kept) {
      if (item instanceof WalkDir) {
        out.push(item.entry!);
        emit(item);
      } else out.push(item);
    }
  };
  emit(root);
  return out;
}

/** A directory of the selection walk: where it is, the pattern state of its path, what it keeps. */
class WalkDir {
  /** Its files, and its subdirectories as WalkDirs, in name order. */
  readonly kept: (FileEntry | WalkDir)[] = [];
  constructor(
    readonly host: string,
    readonly rel: string,
    readonly excludeInfo: MatchInfo | undefined,
    readonly ignoreInfo: MatchInfo | undefined,
    /** Its own entry (undefined for the walk's root, which the caller emits). */
    readonly entry: FileEntry | undefined,
  ) {}
}

/** `a/b/c` → `a`, `a/b`, `a/b/c`. */
function prefixes(path: string): string[] {
  const parts = path.split("/").filter(Boolean);
  return parts.map((_, i) => parts.slice(0, i + 1).join("/"));
}

/** An excluded directory is still walked when a `!pattern` may re-include something below it. */
function reincludesBelow(exclude: PatternMatcher, dir: string): boolean {
  return exclude.patterns.some((p) => p.exclusion && (p.text + "/").startsWith(dir + "/"));
}
