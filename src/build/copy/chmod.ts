/**
 * `--chmod` values: octal up to 07777, or symbolic clauses as chmod(1) writes them
 * (`u+x,g-w`, `a=rX`, `go=u`), applied without a umask as BuildKit does.
 */
import { CopyError } from "./errors.js";

/** Computes the new permission bits from the old ones (`mode & 0o7777`) and the entry type. */
export type ModeChange = (oldMode: number, isDir: boolean) => number;

const WHO_BITS = { u: 0o4700, g: 0o2070, o: 0o1007 } as const;

/** Parses a `--chmod` value. Throws CopyError `copy/bad-chmod` for anything else. */
export function parseChmod(spec: string): ModeChange {
  if (/^[0-9]+$/.test(spec)) {
    const value = /^[0-7]+$/.test(spec) ? parseInt(spec, 8) : NaN;
    if (!(value <= 0o7777)) {
      throw new CopyError("copy/bad-chmod", `invalid chmod parameter: '${spec}'. it should be octal string and between 0 and 07777`);
    }
    return () => value;
  }
  const clauses = spec.split(",").map((c) => parseClause(c, spec));
  return (oldMode, isDir) => clauses.reduce((m, apply) => apply(m, isDir), oldMode & 0o7777);
}

type Clause = (mode: number, isDir: boolean) => number;

function parseClause(clause: string, spec: string): Clause {
  const m = /^([ugoa]*)((?:[-+=](?:[rwxXst]*|[ugo]))+)$/.exec(clause);
  if (!m) throw new CopyError("copy/bad-chmod", `invalid chmod parameter: '${spec}'`);
  const who = m[1]!.includes("a") || m[1] === "" ? "ugo" : m[1]!;
  const actions = [...m[2]!.matchAll(/([-+=])([rwxXst]*|[ugo])/g)].map((a) => ({ op: a[1]!, perms: a[2]! }));
  const whoMask = [...who].reduce((acc, w) => acc | WHO_BITS[w as "u" | "g" | "o"], 0);
  return (mode, isDir) => {
    let cur = mode;
    for (const { op, perms } of actions) {
      const bits = permBits(perms, who, cur, isDir) & whoMask;
      if (op === "+") cur |= bits;
      else if (op === "-") cur &= ~bits;
      else cur = (cur & ~whoMask) | bits;
    }
    return cur;
  };
}

/** The bits a permission list stands for, for every class (masked by `who` later). */
function permBits(perms: string, who: string, cur: number, isDir: boolean): number {
  if (perms === "u" || perms === "g" || perms === "o") {
    const shift = { u: 6, g: 3, o: 0 }[perms];
    const rwx = (cur >> shift) & 7;
    return rwx * 0o111;
  }
  let bits = 0;
  for (const p of perms) {
    if (p === "r") bits |= 0o444;
    else if (p === "w") bits |= 0o222;
    else if (p === "x") bits |= 0o111;
    else if (p === "X" && (isDir || (cur & 0o111) !== 0)) bits |= 0o111;
    else if (p === "s") bits |= (who.includes("u") ? 0o4000 : 0) | (who.includes("g") ? 0o2000 : 0);
    else if (p === "t") bits |= 0o1000;
  }
  return bits;
}
