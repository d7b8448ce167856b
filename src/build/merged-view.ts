import { lstatSync, readFileSync, readlinkSync, type Stats } from "node:fs";
import { join, posix } from "node:path";

/**
 * A read-only view of a stack of layer directories (overlay format: whiteouts are 0/0 character
 * devices), newest first, without mounting anything. COPY uses it to resolve its destination
 * through symlinks that live in lower layers (e.g. Debian's /bin -> usr/bin) and to read
 * /etc/passwd and /etc/group for --chown, as the merged root would show them.
 * Opaque directories (an xattr) are not consulted: a lookup may see a lower entry that an opaque
 * directory hides; that only matters for paths a later layer deleted wholesale.
 */
export class MergedView {
  constructor(private readonly layers: string[]) {}

  /** lstat of a root-relative absolute path, as the merged root shows it; undefined when absent. */
  lstat(path: string): Stats | undefined {
    const rel = posix.normalize(path).replace(/^\/+/, "");
    if (rel === "" || rel === ".") return this.layers.length ? safeLstat(this.layers[this.layers.length - 1]!) : undefined;
    const ancestors = ancestorsOf(rel);
    for (const layer of this.layers) {
      // A whiteout or a non-directory at an ancestor in a newer layer hides everything below it.
      for (const a of ancestors) {
        const st = safeLstat(join(layer, a));
        if (st && (isWhiteout(st) || !st.isDirectory())) return undefined;
      }
      const st = safeLstat(join(layer, rel));
      if (st) return isWhiteout(st) ? undefined : st;
    }
    return undefined;
  }

  /** The host path of the layer file that provides `path`, or undefined. */
  private source(path: string): string | undefined {
    const rel = posix.normalize(path).replace(/^\/+/, "");
    if (!this.lstat(path)) return undefined;
    for (const layer of this.layers) if (safeLstat(join(layer, rel))) return join(layer, rel);
    return undefined;
  }

  readFile(path: string): Buffer | undefined {
    const resolved = this.resolve(path);
    const src = this.source(resolved);
    return src ? readFileSync(src) : undefined;
  }

  /**
   * Resolves symlinks in every component of `path` as a chroot at the merged root would, never
   * leaving the root. Returns a clean absolute path (the final component is followed too unless
   * `followLast` is false).
   */
  resolve(path: string, followLast = true): string {
    let parts = posix.normalize("/" + path).split("/").filter(Boolean);
    let done: string[] = [];
    for (let hops = 0; parts.length > 0; ) {
      const name = parts.shift()!;
      if (name === "..") {
        done.pop();
        continue;
      }
      const candidate = "/" + [...done, name].join("/");
      const st = this.lstat(candidate);
      if (st?.isSymbolicLink() && (parts.length > 0 || followLast)) {
        if (++hops > 40) throw new Error(`too many levels of symbolic links resolving ${path}`);
        const target = readlinkSync(this.source(candidate)!);
        if (target.startsWith("/")) done = [];
        parts = [...target.split("/").filter(Boolean), ...parts];
        continue;
      }
      done.push(name);
    }
    return "/" + done.join("/");
  }
}

function ancestorsOf(rel: string): string[] {
  const parts = rel.split("/");
  const out: string[] = [];
  for (let i = 1; i < parts.length; i++) out.push(parts.slice(0, i).join("/"));
  return out;
}

function safeLstat(p: string): Stats | undefined {
  try {
    return lstatSync(p);
  } catch {
    return undefined;
  }
}

function isWhiteout(st: Stats): boolean {
  return st.isCharacterDevice() && st.rdev === 0;
}
