/**
 * Starts Debian's `docker-registry` (distribution 2.x) on 127.0.0.1 with its own temporary
 * storage, optionally behind htpasswd (Basic) or token (Bearer) auth, for end-to-end tests.
 *
 *   const reg = await startRegistry({ auth: { username: "u", password: "p" } });
 *   after(() => reg.stop());
 *   // push to `${reg.host}/app:latest`
 */
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

export const REGISTRY_BINARY = "/usr/bin/docker-registry";

export interface TestRegistry {
  /** `127.0.0.1:PORT`, the registry part of references. */
  host: string;
  port: number;
  /** `http://127.0.0.1:PORT`. */
  url: string;
  /** The filesystem driver's root: blobs live under `docker/registry/v2/blobs/sha256/<2>/<hex>/data`. */
  storageDir: string;
  /** Where a blob's bytes are kept, for tests that tamper with storage. */
  blobDataPath(digest: string): string;
  /** Everything the registry printed so far, for failure messages. */
  logs(): string;
  stop(): Promise<void>;
}

export interface StartRegistryOptions {
  /** Require this user (htpasswd with bcrypt, Basic challenge). */
  auth?: { username: string; password: string };
  /** Bearer token auth instead: the registry trusts tokens signed by `certFile`'s key. */
  tokenAuth?: { realm: string; service: string; issuer: string; certFile: string };
}

/** Why the registry cannot run here, or undefined when it can (for `test(..., { skip })`). */
export function registryUnavailable(): string | undefined {
  if (!existsSync(REGISTRY_BINARY)) return `${REGISTRY_BINARY} not installed (run scripts/setup-test-env.sh)`;
  return undefined;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once("error", reject);
    srv.listen(0, "127.0.0.1", () => {
      const addr = srv.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function authConfig(dir: string, opts: StartRegistryOptions): string {
  if (opts.auth) {
    const r = spawnSync("htpasswd", ["-Bbn", opts.auth.username, opts.auth.password], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`htpasswd failed: ${r.stderr}`);
    const file = join(dir, "htpasswd");
    writeFileSync(file, r.stdout);
    return `auth:\n  htpasswd:\n    realm: tsbuild-test\n    path: ${file}\n`;
  }
  if (opts.tokenAuth) {
    const t = opts.tokenAuth;
    return `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.certFile}\n`;
  }
  return "";
}

export async function startRegistry(opts: StartRegistryOptions = {}): Promise<TestRegistry> {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-registry-"));
  const storageDir = join(dir, "storage");
  const configFile = join(dir, "config.yml");
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort();
    writeFileSync(
      configFile,
      [
        "version: 0.1",
        "log:\n  level: warn\n  accesslog:\n    disabled: true",
        `storage:\n  filesystem:\n    rootdirectory: ${storageDir}\n  delete:\n    enabled: true`,
        `http:\n  addr: 127.0.0.1:${port}`,
        authConfig(dir, opts),
      ].join("\n"),
    );
    const child = spawn(REGISTRY_BINARY, ["serve", configFile], { stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout!.setEncoding("utf8").on("data", (s: string) => (output += s));
    child.stderr!.setEncoding("utf8").on("data", (s: string) => (output += s));
    try {
      await waitUntilUp(`http://127.0.0.1:${port}/v2/`, child, () => output);
    } catch (err) {
      lastError = err;
      await stopChild(child);
      continue; // most likely the port was taken between probing and binding
    }
    return {
      host: `127.0.0.1:${port}`,
      port,
      url: `http://127.0.0.1:${port}`,
      storageDir,
      blobDataPath: (digest: string) => {
        const hex = digest.replace(/^sha256:/, "");
        return join(storageDir, "docker/registry/v2/blobs/sha256", hex.slice(0, 2), hex, "data");
      },
      logs: () => output,
      stop: async () => {
        await stopChild(child);
        rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastError;
}

async function waitUntilUp(url: string, child: ChildProcess, logs: () => string): Promise<void> {
  // Poll until the API answers (200 open, 401 with auth); bounded by attempts, not by a clock.
  for (let i = 0; i < 200; i++) {
    if (child.exitCode !== null) throw new Error(`docker-registry exited with ${child.exitCode}: ${logs()}`);
    try {
      const res = await fetch(url);
      await res.body?.cancel();
      if (res.status === 200 || res.status === 401) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`docker-registry did not come up at ${url}: ${logs()}`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/**
 * A token server for Bearer auth (distribution's token spec): checks Basic credentials, grants
 * the requested scopes as a JWT signed with a throwaway EC key whose certificate the registry
 * trusts. Start it, then `startRegistry({ tokenAuth: tokens.registryAuth })`.
 */
export interface TestTokenServer {
  realm: string;
  /** Pass as `startRegistry({ tokenAuth })`. */
  registryAuth: { realm: string; service: string; issuer: string; certFile: string };
  /** Every token request's query (service, scope[], account) and whether credentials were sent. */
  requests: { scopes: string[]; account?: string; withCredentials: boolean }[];
  stop(): Promise<void>;
}

export async function startTokenServer(user: { username: string; password: string }): Promise<TestTokenServer> {
  const { createServer: createHttpServer } = await import("node:http");
  const { createPrivateKey, sign, X509Certificate, randomUUID } = await import("node:crypto");
  const { readFileSync } = await import("node:fs");
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-token-"));
  const keyFile = join(dir, "key.pem");
  const certFile = join(dir, "cert.pem");
  const ossl = spawnSync(
    "openssl",
    ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", keyFile, "-out", certFile, "-subj", "/CN=tsbuild-test-token", "-days", "2"],
    { encoding: "utf8" },
  );
  if (ossl.status !== 0) throw new Error(`openssl failed: ${ossl.stderr}`);
  const key = createPrivateKey(readFileSync(keyFile));
  const x5c = new X509Certificate(readFileSync(certFile)).raw.toString("base64");
  const service = "tsbuild-test-registry";
  const issuer = "tsbuild-test-issuer";
  const requests: TestTokenServer["requests"] = [];
  const b64url = (b: Buffer | string) => Buffer.from(b).toString("base64url");

  const server = createHttpServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://x");
    const scopes = url.searchParams.getAll("scope");
    const authHeader = req.headers.authorization ?? "";
    const withCredentials = authHeader.startsWith("Basic ");
    requests.push({ scopes, account: url.searchParams.get("account") ?? undefined, withCredentials });
    let granted = false;
    if (withCredentials) {
      const [u, p] = Buffer.from(authHeader.slice(6), "base64").toString().split(":");
      if (u !== user.username || p !== user.password) {
        res.writeHead(401, { "Content-Type": "application/json" }).end(JSON.stringify({ errors: [{ code: "UNAUTHORIZED", message: "bad credentials" }] }));
        return;
      }
      granted = true;
    }
    // Anonymous callers get a token without access, as Docker Hub does for private repositories.
    const access = granted
      ? scopes.map((s) => {
          const [type, ...rest] = s.split(":");
          const actions = rest.pop() ?? "";
          return { type, name: rest.join(":"), actions: actions.split(",") };
        })
      : [];
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: "JWT", alg: "ES256", x5c: [x5c] };
    const claims = { iss: issuer, sub: granted ? user.username : "", aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomUUID(), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign("sha256", Buffer.from(input), { key, dsaEncoding: "ieee-p1363" });
    res.writeHead(200, { "Content-Type": "application/json" }).end(JSON.stringify({ token: `${input}.${b64url(sig)}`, expires_in: 300 }));
  });
  const port = await new Promise<number>((resolve) => {
    server.listen(0, "127.0.0.1", () => {
      const a = server.address();
      resolve(typeof a === "object" && a ? a.port : 0);
    });
  });
  const realm = `http://127.0.0.1:${port}/token`;
  return {
    realm,
    registryAuth: { realm, service, issuer, certFile },
    requests,
    stop: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
