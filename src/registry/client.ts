/**
 * The HTTP side of the registry API on Node's fetch: endpoint choice (mirrors, plain http for
 * insecure and loopback hosts), the Bearer and Basic challenges with tokens cached per scope,
 * bounded retries with backoff, and redirects that never carry credentials to another host.
 */
import { Readable } from "node:stream";
import { CancelledError } from "../errors/index.js";
import { fetchFailure, httpsFetch } from "../internal/https-fetch.js";
import { resolveCredentials, type Credentials } from "./credentials.js";
import { RegistryError, errorFromResponse } from "./errors.js";
import { apiHost, isLoopbackRegistry } from "./reference.js";

export interface RegistryClientOptions {
  /** Registries (`host[:port]` or bare host) reached over plain http. Loopback hosts always are. */
  insecureRegistries?: string[];
  /** Mirror base URLs per registry, tried in order before the registry itself when pulling. */
  mirrors?: Record<string, string[]>;
  /** Directory holding Docker's config.json; default `$DOCKER_CONFIG` or `~/.docker`. */
  dockerConfigDir?: string;
  /** Credentials to use instead of config.json (per registry host). */
  credentials?: (registry: string) => Promise<Credentials | undefined>;
  signal?: AbortSignal;
  /** Attempts per request on network errors, 5xx and 429 (default 4). */
  maxAttempts?: number;
  /** The fetch implementation; for instrumentation and proxies. Defaults to the global fetch. */
  fetch?: typeof fetch;
  env?: NodeJS.ProcessEnv;
}

/** Where requests for one registry go: its own API host, or one of its mirrors. */
export interface Endpoint {
  /** `http(s)://host[:port][/prefix]`, without a trailing slash; paths start with `/v2/`. */
  baseUrl: string;
  /** The host that credentials and tokens belong to. */
  host: string;
  /** The registry this endpoint serves (`docker.io` for a docker.io mirror). */
  registry: string;
  mirror: boolean;
}

export type RequestBody = Uint8Array | (() => Readable | AsyncIterable<Uint8Array>);

export interface RegistryRequest {
  method: "GET" | "HEAD" | "POST" | "PUT" | "PATCH" | "DELETE";
  /** A path under the endpoint (`/v2/...`) or an absolute URL (an upload Location). */
  path: string;
  headers?: Record<string, string>;
  /** Bytes, or a factory so the body can be sent again after a challenge or a retry. */
  body?: RequestBody;
  /** Token scopes the request needs, e.g. `repository:app:pull,push`. */
  scopes: string[];
}

interface Challenge {
  scheme: "bearer" | "basic";
  params: Record<string, string>;
}

interface CachedToken {
  token: string;
  expiresAt: number;
}

const RETRY_STATUS = new Set([408, 429, 500, 502, 503, 504]);

/** Parses `Bearer realm="…",service="…",scope="…"` (the first challenge we understand). */
export function parseChallenge(header: string | null): Challenge | undefined {
  if (!header) return undefined;
  const m = /^\s*(bearer|basic)\b(.*)$/i.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  const re = /([a-zA-Z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]*))/g;
  for (let p = re.exec(m[2] ?? ""); p; p = re.exec(m[2] ?? "")) {
    params[p[1]!.toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, "$1") : (p[3] ?? "");
  }
  return { scheme: m[1]!.toLowerCase() as "bearer" | "basic", params };
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new CancelledError());
    const t = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(new CancelledError());
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}

export class RegistryClient {
  private readonly opts: RegistryClientOptions;
  private readonly fetchImpl: typeof fetch;
  private readonly challenges = new Map<string, Challenge>();
  private readonly tokens = new Map<string, CachedToken>();
  private readonly creds = new Map<string, Promise<Credentials | undefined>>();

  constructor(opts: RegistryClientOptions = {}) {
    this.opts = opts;
    this.fetchImpl = opts.fetch ?? httpsFetch();
  }

  get signal(): AbortSignal | undefined {
    return this.opts.signal;
  }

  isInsecure(registry: string): boolean {
    if (isLoopbackRegistry(registry)) return true;
    const bare = registry.replace(/:\d+$/, "");
    return (this.opts.insecureRegistries ?? []).some((r) => r === registry || r === bare);
  }

  /** The registry's own endpoint. */
  origin(registry: string): Endpoint {
    const host = apiHost(registry);
    return { baseUrl: `${this.isInsecure(registry) ? "http" : "https"}://${host}`, host, registry, mirror: false };
  }

  /** Mirrors (in configured order) then the registry itself: where pulls look. */
  pullEndpoints(registry: string): Endpoint[] {
    const mirrors = (this.opts.mirrors?.[registry] ?? []).map((m): Endpoint => {
      const withScheme = /^[a-z]+:\/\//i.test(m) ? m : `${this.isInsecure(m.split("/")[0] ?? m) ? "http" : "https"}://${m}`;
      const url = new URL(withScheme);
      const prefix = url.pathname.replace(/\/+$/, "").replace(/\/v2$/, "");
      return { baseUrl: `${url.protocol}//${url.host}${prefix}`, host: url.host, registry, mirror: true };
    });
    return [...mirrors, this.origin(registry)];
  }

  private credentialsFor(host: string): Promise<Credentials | undefined> {
    let p = this.creds.get(host);
    if (!p) {
      p = this.opts.credentials
        ? this.opts.credentials(host)
        : resolveCredentials(host === "registry-1.docker.io" ? "docker.io" : host, { dockerConfigDir: this.opts.dockerConfigDir, env: this.opts.env });
      this.creds.set(host, p);
    }
    return p;
  }

  /** Sends a request, answering auth challenges; the caller checks the status. */
  async request(ep: Endpoint, req: RegistryRequest): Promise<Response> {
    const url = new URL(/^[a-z]+:\/\//i.test(req.path) ? req.path : ep.baseUrl + req.path);
    let forceRefresh = false;
    for (let round = 0; ; round++) {
      const auth = url.host === ep.host ? await this.authorization(ep, req.scopes, forceRefresh) : undefined;
      const res = await this.send(url, req, auth);
      if (res.status !== 401 || round >= 1) return res;
      const challenge = parseChallenge(res.headers.get("www-authenticate"));
      if (!challenge) return res;
      const known = this.challenges.get(ep.host);
      this.challenges.set(ep.host, challenge);
      // Basic auth cannot get better by asking again: the credentials are wrong.
      if (auth && known?.scheme === "basic" && challenge.scheme === "basic") return res;
      const extra = challenge.params.scope;
      if (extra && !scopeCovered(extra, req.scopes)) req = { ...req, scopes: [...req.scopes, extra] };
      await res.body?.cancel().catch(() => {});
      forceRefresh = true;
    }
  }

  /** The Authorization header for a host whose challenge we know; undefined when anonymous. */
  private async authorization(ep: Endpoint, scopes: string[], refresh: boolean): Promise<string | undefined> {
    const challenge = this.challenges.get(ep.host);
    if (!challenge) return undefined;
    const creds = await this.credentialsFor(ep.host);
    if (challenge.scheme === "basic") {
      if (!creds?.username) return undefined;
      return "Basic " + Buffer.from(`${creds.username}:${creds.password ?? ""}`).toString("base64");
    }
    if (creds?.registryToken) return `Bearer ${creds.registryToken}`;
    const realm = challenge.params.realm;
    if (!realm) return undefined;
    const service = challenge.params.service ?? "";
    const sorted = [...new Set(scopes)].sort();
    const key = `${realm}|${service}|${sorted.join(" ")}`;
    const cached = this.tokens.get(key);
    if (cached && !refresh && cached.expiresAt > Date.now()) return `Bearer ${cached.token}`;
    const token = await this.fetchToken(ep, realm, service, sorted, creds);
    this.tokens.set(key, token);
    return `Bearer ${token.token}`;
  }

  private async fetchToken(ep: Endpoint, realm: string, service: string, scopes: string[], creds: Credentials | undefined): Promise<CachedToken> {
    const name = `${ep.registry}`;
    let res: Response | undefined;
    if (creds?.identityToken) {
      const form = new URLSearchParams({ grant_type: "refresh_token", refresh_token: creds.identityToken, service, client_id: "tsbuild" });
      if (scopes.length) form.set("scope", scopes.join(" "));
      res = await this.send(new URL(realm), {
        method: "POST",
        path: realm,
        scopes,
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new TextEncoder().encode(form.toString()),
      }, undefined);
      if (res.status === 404 || res.status === 405) res = undefined; // token servers without OAuth2 POST
    }
    if (!res) {
      const url = new URL(realm);
      if (service) url.searchParams.set("service", service);
      for (const s of scopes) url.searchParams.append("scope", s);
      const headers: Record<string, string> = {};
      if (creds?.username) {
        url.searchParams.set("account", creds.username);
        headers.Authorization = "Basic " + Buffer.from(`${creds.username}:${creds.password ?? ""}`).toString("base64");
      } else if (creds?.identityToken) {
        headers.Authorization = "Basic " + Buffer.from(`<token>:${creds.identityToken}`).toString("base64");
      }
      res = await this.send(url, { method: "GET", path: url.href, scopes, headers }, undefined);
    }
    if (!res.ok) {
      const err = await errorFromResponse(res, `get token from ${realm}`, name);
      if (res.status === 401 || res.status === 403) throw err;
      throw new RegistryError("registry/token", `cannot get a registry token from ${realm}: ${err.message}`, { status: res.status, cause: err });
    }
    const json = (await res.json()) as { token?: string; access_token?: string; expires_in?: number; issued_at?: string };
    const token = json.token || json.access_token;
    if (!token) throw new RegistryError("registry/token", `token server ${realm} returned no token`);
    const issued = json.issued_at ? Date.parse(json.issued_at) : NaN;
    const start = Number.isFinite(issued) ? Math.min(issued, Date.now()) : Date.now();
    const lifetime = (json.expires_in && json.expires_in > 0 ? json.expires_in : 60) * 1000;
    // Renew a little early so a token does not expire between check and use.
    return { token, expiresAt: start + lifetime - Math.min(10_000, lifetime / 4) };
  }

  /** One logical send: retries network errors, 5xx and 429; follows redirects without credentials across hosts. */
  private async send(url: URL, req: RegistryRequest, auth: string | undefined): Promise<Response> {
    const maxAttempts = Math.max(1, this.opts.maxAttempts ?? 4);
    const signal = this.opts.signal;
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw new CancelledError();
      let res: Response;
      try {
        res = await this.followRedirects(url, req, auth);
      } catch (err) {
        if (signal?.aborted || (err as Error).name === "AbortError") throw new CancelledError(undefined, { cause: err });
        if (err instanceof RegistryError) throw err;
        if (attempt >= maxAttempts) {
          throw new RegistryError(
            "registry/unreachable",
            `cannot reach ${url.host} (${req.method} ${url.pathname}): ${fetchFailure(err)}`,
            { cause: err },
          );
        }
        await sleep(this.backoff(attempt, null), signal);
        continue;
      }
      if (!RETRY_STATUS.has(res.status) || attempt >= maxAttempts) return res;
      await res.body?.cancel().catch(() => {});
      await sleep(this.backoff(attempt, res.headers.get("retry-after")), signal);
    }
  }

  private backoff(attempt: number, retryAfter: string | null): number {
    const seconds = retryAfter !== null ? Number(retryAfter) : NaN;
    if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds * 1000, 30_000);
    return Math.min(200 * 2 ** (attempt - 1), 5_000) * (0.75 + Math.random() * 0.5);
  }

  private async followRedirects(url: URL, req: RegistryRequest, auth: string | undefined): Promise<Response> {
    let current = url;
    let method = req.method;
    let body = req.body;
    for (let hops = 0; hops < 10; hops++) {
      const headers: Record<string, string> = { ...req.headers };
      if (auth && current.host === url.host) headers.Authorization = auth;
      const init: RequestInit & { duplex?: "half" } = { method, headers, redirect: "manual", signal: this.opts.signal };
      if (body && method !== "GET" && method !== "HEAD") {
        if (body instanceof Uint8Array) init.body = body as unknown as BodyInit;
        else {
          const produced = body();
          const readable = produced instanceof Readable ? produced : Readable.from(produced);
          init.body = Readable.toWeb(readable) as unknown as ReadableStream<Uint8Array>;
          init.duplex = "half";
        }
      }
      const res = await this.fetchImpl(current, init);
      const location = res.headers.get("location");
      if (![301, 302, 303, 307, 308].includes(res.status) || !location) return res;
      await res.body?.cancel().catch(() => {});
      current = new URL(location, current);
      if (res.status === 303) {
        method = "GET";
        body = undefined;
      }
    }
    throw new RegistryError("registry/too-many-redirects", `too many redirects from ${url.host}${url.pathname}`);
  }
}

/** Throws the registry's error unless the response has one of the expected statuses. */
export async function expectStatus(res: Response, ok: number[], what: string, name: string): Promise<Response> {
  if (ok.includes(res.status)) return res;
  throw await errorFromResponse(res, what, name);
}

/** True when `scope` (`type:name:actions`) is already granted by one of `scopes`. */
export function scopeCovered(scope: string, scopes: string[]): boolean {
  const cut = scope.lastIndexOf(":");
  const resource = scope.slice(0, cut);
  const wanted = scope.slice(cut + 1).split(",");
  return scopes.some((s) => {
    const c = s.lastIndexOf(":");
    if (s.slice(0, c) !== resource) return false;
    const have = s.slice(c + 1).split(",");
    return wanted.every((a) => have.includes(a) || have.includes("*"));
  });
}

export function repoScope(repository: string, actions: "pull" | "pull,push"): string {
  return `repository:${repository}:${actions}`;
}
