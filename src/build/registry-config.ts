/**
 * Registry settings a user keeps for every build, in `<tsbuild root>/config.json` (the JSON
 * counterpart of buildkitd.toml's `[registry."host"]` tables):
 *
 *   { "registries": { "docker.io": { "mirrors": ["mirror.internal:5000"] },
 *                     "registry.internal:5000": { "insecure": true } } }
 *
 * `mirrors` are tried in order before the registry itself when pulling; `insecure` registries are
 * reached over plain http (loopback registries always are).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { TsbuildError } from "../errors/index.js";

export interface RegistrySettings {
  mirrors: Record<string, string[]>;
  insecure: string[];
}

export function loadRegistrySettings(root: string): RegistrySettings {
  const file = join(root, "config.json");
  const out: RegistrySettings = { mirrors: {}, insecure: [] };
  if (!existsSync(file)) return out;
  let parsed: { registries?: Record<string, { mirrors?: unknown; insecure?: unknown }> };
  try {
    parsed = JSON.parse(readFileSync(file, "utf8")) as typeof parsed;
  } catch (e) {
    throw new TsbuildError("config/invalid", `${file}: not valid JSON: ${(e as Error).message}`);
  }
  for (const [host, r] of Object.entries(parsed.registries ?? {})) {
    if (r.mirrors !== undefined) {
      if (!Array.isArray(r.mirrors) || r.mirrors.some((m) => typeof m !== "string")) {
        throw new TsbuildError("config/invalid", `${file}: registries["${host}"].mirrors must be a list of host[:port] strings`);
      }
      out.mirrors[host] = (r.mirrors as string[]).map((m) => (/^https?:\/\//.test(m) ? m : `https://${m}`));
    }
    if (r.insecure === true) {
      out.insecure.push(host);
      for (const m of out.mirrors[host] ?? []) out.insecure.push(new URL(m).host);
    }
  }
  return out;
}
