/**
 * Go's `path.Clean` and `path.Dir` for slash-separated paths. Docker's matchers clean patterns and
 * paths this way, and the exact result (`"."` for empty, no trailing slash, `..` kept at the start
 * of a relative path) decides what matches.
 */

/** Lexically shortest equivalent path, exactly as Go's `path.Clean`. */
export function cleanPath(p: string): string {
  if (p === "") return ".";
  const rooted = p.startsWith("/");
  const out: string[] = [];
  for (const part of p.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") {
      if (out.length > 0 && out[out.length - 1] !== "..") out.pop();
      else if (!rooted) out.push("..");
      continue;
    }
    out.push(part);
  }
  const joined = out.join("/");
  if (rooted) return "/" + joined;
  return joined === "" ? "." : joined;
}

/** All but the last element, cleaned, as Go's `path.Dir` (`"a/b/"` → `"a/b"`, `"x"` → `"."`). */
export function dirPath(p: string): string {
  const slash = p.lastIndexOf("/");
  return cleanPath(p.slice(0, slash + 1));
}

/** Go's `strings.TrimSpace` (Unicode White_Space; unlike JS's `trim`, NEL is space and BOM is not). */
export function goTrimSpace(s: string): string {
  return s.replace(/^[\p{White_Space}]+|[\p{White_Space}]+$/gu, "");
}
