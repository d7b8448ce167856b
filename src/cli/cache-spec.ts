/**
 * `--cache-from` / `--cache-to` values in buildx's CSV grammar. tsbuild's cache is local, so the
 * build command only validates these and warns; parsing them keeps scripts written for buildx
 * working and catches typos now rather than when remote cache lands.
 */
import { UsageError } from "../index.js";

export const CACHE_TYPES = ["registry", "local", "inline", "gha", "s3", "azblob"] as const;
export type CacheType = (typeof CACHE_TYPES)[number];

export interface CacheSpec {
  type: CacheType;
  attrs: Record<string, string>;
}

/** Splits one CSV record; `"` quotes a field that holds commas, `""` is a literal quote. */
export function splitCsvRecord(s: string, flag: string): string[] {
  const out: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (quoted) {
      if (c === '"' && s[i + 1] === '"') (field += '"'), i++;
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") out.push(field), (field = "");
    else field += c;
  }
  if (quoted) throw new UsageError(`invalid ${flag} "${s}": unterminated quote`);
  out.push(field);
  return out;
}

/** A bare `user/app:cache` means `type=registry,ref=user/app:cache`, as in buildx. */
export function parseCacheSpec(value: string, flag: "--cache-from" | "--cache-to"): CacheSpec {
  if (!value.includes("=")) return { type: "registry", attrs: { ref: value } };
  const attrs: Record<string, string> = {};
  for (const f of splitCsvRecord(value, flag)) {
    const eq = f.indexOf("=");
    if (eq <= 0) throw new UsageError(`invalid ${flag} "${value}": "${f}" is not key=value`);
    attrs[f.slice(0, eq).trim().toLowerCase()] = f.slice(eq + 1);
  }
  const type = attrs.type;
  delete attrs.type;
  if (!type) throw new UsageError(`invalid ${flag} "${value}": type= is required`);
  if (!(CACHE_TYPES as readonly string[]).includes(type)) {
    throw new UsageError(`invalid ${flag} type "${type}" (${CACHE_TYPES.join(", ")})`);
  }
  if (type === "inline" && flag === "--cache-from") throw new UsageError(`--cache-from type=inline is not valid; import inline cache with type=registry,ref=IMAGE`);
  if (type === "registry" && !attrs.ref) throw new UsageError(`${flag} type=registry needs ref=`);
  if (type === "local" && flag === "--cache-from" && !attrs.src) throw new UsageError(`--cache-from type=local needs src=`);
  if (type === "local" && flag === "--cache-to" && !attrs.dest) throw new UsageError(`--cache-to type=local needs dest=`);
  if (attrs.mode !== undefined && attrs.mode !== "min" && attrs.mode !== "max") throw new UsageError(`invalid ${flag} mode "${attrs.mode}" (min, max)`);
  return { type: type as CacheType, attrs };
}
