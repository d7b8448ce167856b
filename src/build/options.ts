/** Turning BuildOptions into what a build needs: the Dockerfile text, platform, build args, secrets, ssh sockets. */
import { existsSync, readFileSync } from "node:fs";
import { basename, isAbsolute, join, relative, resolve } from "node:path";
import { UsageError } from "../errors/index.js";
import { hostPlatform, parsePlatform } from "../parser/platform.js";
import { parseSecretSpec } from "./output-spec.js";
import type { BuildOptions } from "./types.js";

export function readDockerfile(options: BuildOptions, contextDir: string): { path?: string; text: string; displayName: string } {
  if (options.dockerfileText !== undefined) return { text: options.dockerfileText, displayName: options.file && options.file !== "-" ? options.file : "Dockerfile" };
  const candidates = options.file ? [resolve(options.file)] : [join(contextDir, "Dockerfile"), join(contextDir, "Containerfile")];
  for (const p of candidates) {
    if (existsSync(p)) {
      // Named as BuildKit names it: relative to the context, else by its base name.
      const rel = relative(contextDir, p);
      return { path: p, text: readFileSync(p, "utf8"), displayName: rel.startsWith("..") || isAbsolute(rel) ? basename(p) : rel };
    }
  }
  throw new UsageError(`failed to read dockerfile: open ${candidates[0]}: no such file or directory`);
}

export function platformOrThrow(s: string) {
  const p = parsePlatform(s);
  const host = hostPlatform();
  if (!p || p.os !== host.os || p.architecture !== host.architecture) {
    throw new UsageError(`--platform ${s}: only the host platform (${host.os}/${host.architecture}) can be built here`);
  }
  return p;
}

export function buildArgsRecord(args: BuildOptions["buildArgs"]): Record<string, string | undefined> {
  if (!args) return {};
  if (!Array.isArray(args)) return args;
  const out: Record<string, string | undefined> = {};
  for (const a of args) {
    const eq = a.indexOf("=");
    if (eq === -1) out[a] = undefined;
    else out[a.slice(0, eq)] = a.slice(eq + 1);
  }
  return out;
}

export function secretMap(options: BuildOptions, env: NodeJS.ProcessEnv): Map<string, { file?: string; env?: string }> {
  const out = new Map<string, { file?: string; env?: string }>();
  for (const s of options.secrets ?? []) {
    const spec = typeof s === "string" ? parseSecretSpec(s, env) : s;
    out.set(spec.id, spec.env !== undefined ? { env: spec.env } : { file: resolve(spec.src ?? spec.id) });
  }
  return out;
}

export function sshMap(specs: string[], env: NodeJS.ProcessEnv): Map<string, string> {
  const out = new Map<string, string>();
  for (const s of specs) {
    const [id, path] = s.includes("=") ? (s.split("=", 2) as [string, string]) : [s, env.SSH_AUTH_SOCK ?? ""];
    if (!path) throw new UsageError(`--ssh ${s}: no socket given and SSH_AUTH_SOCK is not set`);
    out.set(id, path);
  }
  return out;
}
