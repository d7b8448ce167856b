/**
 * `ADD <url>`: downloads one file as BuildKit's HTTP source does. The file is named after the last
 * URL path element (`__unnamed__` when there is none), gets mode 0600, and its mtime comes from
 * `Last-Modified` when the server sends one. Remote archives are not extracted.
 */
import { sha256Digest } from "../../internal/digest.js";
import { chmod, mkdir, rm, utimes, writeFile } from "node:fs/promises";
import { join, posix } from "node:path";
import { fetchFailure, httpsFetch } from "../../internal/https-fetch.js";
import { CopyError } from "./errors.js";

export interface FetchedUrl {
  /** Host path of the downloaded file. */
  path: string;
  /** Its name inside `destDir`. */
  filename: string;
  /** `sha256:<hex>` of the content. */
  digest: string;
}

/** Downloads `url` into `destDir`; with `checksum` (`sha256:<hex>`) a mismatch is an error and nothing is kept. */
export async function fetchUrlSource(
  url: string,
  destDir: string,
  opts: { checksum?: string; signal?: AbortSignal } = {},
): Promise<FetchedUrl> {
  const expected = opts.checksum === undefined ? undefined : parseChecksum(opts.checksum);
  let res: Response;
  try {
    res = await httpsFetch()(url, { redirect: "follow", ...(opts.signal ? { signal: opts.signal } : {}) });
  } catch (err) {
    throw new CopyError("copy/fetch-failed", `failed to fetch ${url}: ${fetchFailure(err)}`, { cause: err });
  }
  if (!res.ok) throw new CopyError("copy/fetch-failed", `failed to fetch ${url}: ${res.status} ${res.statusText}`);
  const body = Buffer.from(await res.arrayBuffer());
  const digest = sha256Digest(body);
  if (expected !== undefined && digest !== expected) {
    throw new CopyError("copy/checksum-mismatch", `digest mismatch for ${url}: expected ${expected}, got ${digest}`);
  }
  const filename = urlFilename(url);
  await mkdir(destDir, { recursive: true });
  const path = join(destDir, filename);
  await rm(path, { force: true });
  await writeFile(path, body, { mode: 0o600 });
  await chmod(path, 0o600);
  const lastModified = res.headers.get("last-modified");
  const when = lastModified === null ? NaN : Date.parse(lastModified);
  if (!Number.isNaN(when)) await utimes(path, new Date(when), new Date(when));
  return { path, filename, digest };
}

/** The file name BuildKit gives a URL source: the base of the URL path, or `__unnamed__`. */
export function urlFilename(url: string): string {
  let pathname = "";
  try {
    pathname = new URL(url).pathname;
  } catch {
    return "__unnamed__";
  }
  let base = posix.basename(pathname);
  try {
    base = decodeURIComponent(base);
  } catch {
    // keep the raw name when the escapes are malformed
  }
  return base === "" || base === "." || base === ".." || base.includes("/") ? "__unnamed__" : base;
}

function parseChecksum(spec: string): string {
  const m = /^sha256:([0-9a-f]{64})$/.exec(spec);
  if (!m) throw new CopyError("copy/checksum-mismatch", `invalid checksum ${JSON.stringify(spec)}: expected sha256:<64 hex digits>`);
  return spec;
}
