/**
 * Registry credentials from Docker's config.json: `credHelpers[host]`, then `credsStore`, then
 * `auths`, using the `docker-credential-<name> get` protocol (stdin: server URL, stdout JSON).
 */
import { spawn } from "../internal/lazy-node.js";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { RegistryError } from "./errors.js";
import { DOCKER_HUB, DOCKER_HUB_CREDENTIAL_KEY } from "./reference.js";

/** What a registry login yields. `identityToken` is an OAuth refresh token; `registryToken` a bearer token. */
export interface Credentials {
  username?: string;
  password?: string;
  identityToken?: string;
  registryToken?: string;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
  identitytoken?: string;
  registrytoken?: string;
}

interface DockerConfigFile {
  auths?: Record<string, AuthEntry>;
  credsStore?: string;
  credHelpers?: Record<string, string>;
}

/** `$DOCKER_CONFIG`, else `~/.docker`. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG || join(homedir(), ".docker");
}

async function readConfig(dir: string): Promise<DockerConfigFile> {
  const file = join(dir, "config.json");
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return {};
    throw err;
  }
  try {
    return JSON.parse(text) as DockerConfigFile;
  } catch (err) {
    throw new RegistryError("registry/bad-docker-config", `cannot parse ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** `https://ghcr.io/v2/` and `ghcr.io` both name the host `ghcr.io`. */
function hostOfKey(key: string): string {
  const stripped = key.replace(/^[a-z]+:\/\//i, "");
  const host = stripped.split("/")[0] ?? stripped;
  return host === "index.docker.io" || host === "registry-1.docker.io" ? DOCKER_HUB : host;
}

/** The server URL docker uses for a registry in config and helper calls. */
export function credentialServerKey(registry: string): string {
  return registry === DOCKER_HUB ? DOCKER_HUB_CREDENTIAL_KEY : registry;
}

function fromAuthEntry(entry: AuthEntry): Credentials | undefined {
  const creds: Credentials = {};
  if (entry.auth) {
    const decoded = Buffer.from(entry.auth, "base64").toString("utf8");
    const colon = decoded.indexOf(":");
    if (colon > 0) {
      creds.username = decoded.slice(0, colon);
      creds.password = decoded.slice(colon + 1);
    }
  } else if (entry.username) {
    creds.username = entry.username;
    creds.password = entry.password ?? "";
  }
  if (entry.identitytoken) creds.identityToken = entry.identitytoken;
  if (entry.registrytoken) creds.registryToken = entry.registrytoken;
  return Object.keys(creds).length ? creds : undefined;
}

/** Runs `docker-credential-<helper> get`; resolves undefined when the helper has no entry. */
export async function runCredentialHelper(helper: string, serverUrl: string, env: NodeJS.ProcessEnv = process.env): Promise<Credentials | undefined> {
  const program = `docker-credential-${helper}`;
  const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = spawn(program, ["get"], { env, stdio: ["pipe", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout.setEncoding("utf8").on("data", (s: string) => (out += s));
    child.stderr.setEncoding("utf8").on("data", (s: string) => (err += s));
    child.on("error", (e) =>
      reject(new RegistryError("registry/credential-helper", `cannot run credential helper ${program}: ${e.message}`, { cause: e })),
    );
    child.on("close", (c) => resolve({ code: c, stdout: out, stderr: err }));
    child.stdin.on("error", () => {}); // a helper that exits without reading stdin is judged by its exit code
    child.stdin.end(serverUrl);
  });
  if (code !== 0) {
    const msg = (stdout + stderr).trim();
    if (/credentials not found/i.test(msg)) return undefined;
    throw new RegistryError("registry/credential-helper", `credential helper ${program} failed for ${serverUrl}: ${msg || `exit code ${code}`}`);
  }
  let json: { Username?: string; Secret?: string };
  try {
    json = JSON.parse(stdout) as { Username?: string; Secret?: string };
  } catch {
    throw new RegistryError("registry/credential-helper", `credential helper ${program} printed invalid JSON for ${serverUrl}`);
  }
  if (!json.Secret) return undefined;
  // `<token>` as user name means the secret is an identity (refresh) token, not a password.
  if (json.Username === "<token>") return { identityToken: json.Secret };
  return { username: json.Username ?? "", password: json.Secret };
}

export interface CredentialOptions {
  /** Directory holding config.json; default `$DOCKER_CONFIG` or `~/.docker`. */
  dockerConfigDir?: string;
  env?: NodeJS.ProcessEnv;
}

/** Looks up credentials for a registry host (`docker.io`, `127.0.0.1:5000`); undefined means anonymous. */
export async function resolveCredentials(registry: string, opts: CredentialOptions = {}): Promise<Credentials | undefined> {
  const env = opts.env ?? process.env;
  const config = await readConfig(opts.dockerConfigDir ?? dockerConfigDir(env));
  const serverKey = credentialServerKey(registry);
  const helper = Object.entries(config.credHelpers ?? {}).find(([k]) => hostOfKey(k) === registry)?.[1];
  if (helper) return runCredentialHelper(helper, serverKey, env);
  if (config.credsStore) {
    const found = await runCredentialHelper(config.credsStore, serverKey, env);
    if (found) return found;
  }
  const auths = config.auths ?? {};
  const entry = auths[serverKey] ?? Object.entries(auths).find(([k]) => hostOfKey(k) === registry)?.[1];
  return entry ? fromAuthEntry(entry) : undefined;
}
