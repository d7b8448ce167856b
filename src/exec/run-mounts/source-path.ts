import { join, normalize } from "node:path";

/** `source` (a path inside `dir`, default its root) as a host path that cannot climb out of `dir`. */
export function sourcePath(dir: string, source = "/"): string {
  return join(dir, normalize("/" + source));
}
