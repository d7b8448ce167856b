/**
 * Image names normalised as Docker does: `app` → `docker.io/library/app:latest`,
 * `ghcr.io/o/r@sha256:…` kept by digest. Small and local so the image store needs no registry code.
 */
import { UsageError } from "../errors/index.js";

export interface ImageName {
  /** Registry host, `docker.io` for Docker Hub. */
  domain: string;
  /** Path under the host, `library/app` for official Docker Hub images. */
  path: string;
  tag?: string;
  digest?: string;
}

const PATH_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

/** Parses and normalises a name; a name with neither tag nor digest gets `latest`. */
export function parseImageName(input: string): ImageName {
  let rest = input.trim();
  let digest: string | undefined;
  const at = rest.indexOf("@");
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
    if (!DIGEST_RE.test(digest)) throw bad(input, "bad digest");
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw bad(input, "bad tag");
  }
  let domain = "docker.io";
  let path = rest;
  const slash = rest.indexOf("/");
  if (slash >= 0) {
    const first = rest.slice(0, slash);
    if (first.includes(".") || first.includes(":") || first === "localhost") {
      domain = first;
      path = rest.slice(slash + 1);
    }
  }
  if (domain === "index.docker.io") domain = "docker.io";
  if (domain === "docker.io" && !path.includes("/")) path = `library/${path}`;
  if (!PATH_RE.test(path)) throw bad(input, "repository names must be lowercase letters, digits and separators");
  if (!tag && !digest) tag = "latest";
  const out: ImageName = { domain, path };
  if (tag) out.tag = tag;
  if (digest) out.digest = digest;
  return out;
}

function bad(input: string, why: string): UsageError {
  return new UsageError(`invalid image name "${input}": ${why}`);
}

/** `docker.io/library/app` */
export function repositoryOf(n: ImageName): string {
  return `${n.domain}/${n.path}`;
}

/** The full normalised name: `docker.io/library/app:latest` (or `…@sha256:…`). */
export function formatImageName(n: ImageName): string {
  return repositoryOf(n) + (n.tag ? `:${n.tag}` : "") + (n.digest ? `@${n.digest}` : "");
}

/** Normalises a user-typed name to its full form. */
export function normalizeImageName(input: string): string {
  return formatImageName(parseImageName(input));
}

/** The short form Docker prints: `app:latest`, `user/app:1`, `ghcr.io/o/r:tag`. */
export function familiarName(full: string): string {
  const n = parseImageName(full);
  let repo = repositoryOf(n);
  if (n.domain === "docker.io") repo = n.path.startsWith("library/") ? n.path.slice("library/".length) : n.path;
  return repo + (n.tag ? `:${n.tag}` : "") + (n.digest ? `@${n.digest}` : "");
}

/** The familiar repository without tag (`app`, `ghcr.io/o/r`), for the REPOSITORY column. */
export function familiarRepository(full: string): string {
  const n = parseImageName(full);
  if (n.domain !== "docker.io") return repositoryOf(n);
  return n.path.startsWith("library/") ? n.path.slice("library/".length) : n.path;
}
