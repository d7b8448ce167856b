/**
 * Image references after distribution/reference: `[domain/]path[:tag][@digest]`, normalised the
 * way the docker CLI does (`alpine` → `docker.io/library/alpine:latest`).
 */
import { TsbuildError } from "../errors/index.js";
import type { Digest } from "../internal/digest.js";

export const DOCKER_HUB = "docker.io";
/** The host that serves the registry API for docker.io. */
export const DOCKER_HUB_API_HOST = "registry-1.docker.io";
/** The key Docker Hub credentials are stored under in config.json and credential helpers. */
export const DOCKER_HUB_CREDENTIAL_KEY = "https://index.docker.io/v1/";

const NAME_MAX = 255;
const DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
const DOMAIN_RE = new RegExp(`^(?:${DOMAIN_COMPONENT}(?:\\.${DOMAIN_COMPONENT})*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?$`);
const PATH_COMPONENT = "[a-z0-9]+(?:(?:[._]|__|[-]+)[a-z0-9]+)*";
const PATH_RE = new RegExp(`^${PATH_COMPONENT}(?:/${PATH_COMPONENT})*$`);
const TAG_RE = /^[\w][\w.-]{0,127}$/;
const DIGEST_RE = /^[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}$/;
const HEX64_RE = /^[a-f0-9]{64}$/;

/** A fully qualified image reference. Tag defaults to `latest` only when there is no digest. */
export class ImageReference {
  constructor(
    /** Registry host with optional port, e.g. `docker.io`, `127.0.0.1:5000`. */
    readonly registry: string,
    /** Repository path inside the registry, e.g. `library/alpine`. */
    readonly repository: string,
    readonly tag?: string,
    readonly digest?: Digest,
  ) {}

  /** `registry/repository`, without tag or digest. */
  get name(): string {
    return `${this.registry}/${this.repository}`;
  }

  /** The tag or digest to ask the registry for (digest wins: it is exact). */
  get object(): string {
    return this.digest ?? this.tag ?? "latest";
  }

  toString(): string {
    return this.name + (this.tag ? `:${this.tag}` : "") + (this.digest ? `@${this.digest}` : "");
  }

  /** The short name people type: `alpine`, `user/app`, `ghcr.io/o/app`. */
  familiarName(): string {
    if (this.registry !== DOCKER_HUB) return this.name;
    return this.repository.startsWith("library/") && this.repository.split("/").length === 2
      ? this.repository.slice("library/".length)
      : this.repository;
  }

  /** The familiar name with tag and digest, as `docker images` prints it. */
  familiarString(): string {
    return this.familiarName() + (this.tag ? `:${this.tag}` : "") + (this.digest ? `@${this.digest}` : "");
  }

  withTag(tag: string): ImageReference {
    return new ImageReference(this.registry, this.repository, tag, undefined);
  }

  withDigest(digest: Digest): ImageReference {
    return new ImageReference(this.registry, this.repository, this.tag, digest);
  }
}

function invalid(ref: string, why: string): TsbuildError {
  return new TsbuildError("registry/invalid-reference", `invalid reference "${ref}": ${why}`);
}

/** Splits `host/path` the way the docker CLI does: the first part is a host only if it looks like one. */
function splitDomain(name: string): [string, string] {
  const slash = name.indexOf("/");
  const first = slash === -1 ? "" : name.slice(0, slash);
  let domain: string;
  let rest: string;
  if (slash === -1 || (!/[.:]/.test(first) && first !== "localhost" && first.toLowerCase() === first)) {
    [domain, rest] = [DOCKER_HUB, name];
  } else {
    [domain, rest] = [first, name.slice(slash + 1)];
  }
  if (domain === "index.docker.io") domain = DOCKER_HUB;
  if (domain === DOCKER_HUB && !rest.includes("/")) rest = `library/${rest}`;
  return [domain, rest];
}

/**
 * Parses and normalises an image reference. Throws TsbuildError `registry/invalid-reference`
 * with the reason (uppercase repository, bad tag, bad digest, too long).
 */
export function parseReference(input: string): ImageReference {
  const ref = input.trim();
  if (ref === "") throw invalid(input, "empty reference");
  if (HEX64_RE.test(ref)) throw invalid(input, "cannot specify 64-byte hexadecimal strings as a repository name");
  let rest = ref;
  let digest: Digest | undefined;
  const at = rest.indexOf("@");
  if (at !== -1) {
    const d = rest.slice(at + 1);
    if (!DIGEST_RE.test(d)) throw invalid(input, `bad digest "${d}"`);
    if (!/^sha256:[0-9a-f]{64}$/.test(d)) throw invalid(input, `unsupported digest "${d}" (only sha256 with 64 lowercase hex digits)`);
    digest = d as Digest;
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const colon = rest.lastIndexOf(":");
  if (colon > rest.lastIndexOf("/")) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
    if (!TAG_RE.test(tag)) throw invalid(input, `bad tag "${tag}"`);
  }
  if (rest === "") throw invalid(input, "missing repository name");
  const [domain, path] = splitDomain(rest);
  if (!DOMAIN_RE.test(domain)) throw invalid(input, `bad registry host "${domain}"`);
  if (/[A-Z]/.test(path)) throw invalid(input, "repository name must be lowercase");
  if (!PATH_RE.test(path)) throw invalid(input, `bad repository name "${path}"`);
  if (domain.length + 1 + path.length > NAME_MAX) throw invalid(input, `repository name must not be more than ${NAME_MAX} characters`);
  if (tag === undefined && digest === undefined) tag = "latest";
  return new ImageReference(domain, path, tag, digest);
}

/** The host the registry API is served from (`docker.io` → `registry-1.docker.io`). */
export function apiHost(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_API_HOST : registry;
}

/** Hosts treated as insecure (plain http) without being listed, as Docker does. */
export function isLoopbackRegistry(registry: string): boolean {
  const host = registry.replace(/:\d+$/, "").replace(/^\[|\]$/g, "");
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
