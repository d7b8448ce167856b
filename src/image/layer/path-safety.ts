/**
 * Where a layer entry may land. Names are cleaned lexically (a leading "/" is dropped, as
 * containerd does; a ".." that climbs above the root is refused), then every parent directory is
 * resolved inside the root the way a chroot would: a symlink is followed, but an absolute target
 * starts again at the root and ".." stops at it. Nothing a tar contains can name a host path.
 */
import { lstatSync, mkdirSync, readlinkSync, type Stats } from "node:fs";
import { join } from "node:path";
import { TsbuildError } from "../../errors/index.js";

const MAX_LINKS = 255;

export function unsafePath(entry: string, why: string): TsbuildError {
  return new TsbuildError("layer/unsafe-path", `refusing layer entry ${JSON.stringify(entry)}: ${why}`);
}

/** The components of an entry name; [] for the root itself. `entry` names the culprit in errors. */
export function cleanEntryName(name: string, entry = name): string[] {
  const out: string[] = [];
  for (const c of name.split("/")) {
    if (c === "" || c === ".") continue;
    if (c === "..") {
      if (out.length === 0) throw unsafePath(entry, `${JSON.stringify(name)} climbs out of the root with '..'`);
      out.pop();
    } else out.push(c);
  }
  return out;
}

export interface ResolveOptions {
  /** Create missing directories (mode 0755), as extraction does for parents not in the tar. */
  create: boolean;
  /** Refuse instead of following symlinks (used for hardlink targets). */
  noSymlinks?: boolean;
  /** The entry name, for error messages. */
  entry: string;
}

/**
 * The host path of the directory `comps` names inside `root`. Only real directories are joined
 * onto the result, so it is always inside `root`.
 */
export function resolveDirInRoot(root: string, comps: string[], opts: ResolveOptions): string {
  let stack: string[] = [];
  const queue = [...comps];
  let links = 0;
  while (queue.length > 0) {
    const c = queue.shift()!;
    if (c === "" || c === ".") continue;
    if (c === "..") {
      stack.pop();
      continue;
    }
    const p = join(root, ...stack, c);
    const st = lstatOrUndefined(p);
    if (st === undefined) {
      if (!opts.create) throw new TsbuildError("layer/apply-failed", `${opts.entry}: ${[...stack, c].join("/")} does not exist`);
      mkdirSync(p, { mode: 0o755 });
      stack.push(c);
    } else if (st.isSymbolicLink()) {
      if (opts.noSymlinks) throw unsafePath(opts.entry, `it goes through the symlink ${[...stack, c].join("/")}`);
      if (++links > MAX_LINKS) throw unsafePath(opts.entry, "too many levels of symlinks");
      const target = readlinkSync(p);
      if (target.startsWith("/")) stack = [];
      queue.unshift(...target.split("/"));
    } else if (st.isDirectory()) {
      stack.push(c);
    } else {
      throw new TsbuildError("layer/apply-failed", `${opts.entry}: ${[...stack, c].join("/")} is not a directory`);
    }
  }
  return join(root, ...stack);
}

export function lstatOrUndefined(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw err;
  }
}
