/** `-o/--output` values in buildx's CSV grammar, and `--secret` values, into typed specs. */
import { UsageError } from "../errors/index.js";
import { splitCsv } from "../parser/instructions/mount.js";
import type { OutputSpec, SecretSpec } from "./types.js";

function csvFields(value: string, flag: string): Map<string, string> {
  const fields = new Map<string, string>();
  for (const f of splitCsv(value)) {
    const eq = f.indexOf("=");
    if (eq === -1) throw new UsageError(`invalid ${flag} value "${value}": "${f}" is not key=value`);
    fields.set(f.slice(0, eq).trim().toLowerCase(), f.slice(eq + 1));
  }
  return fields;
}

/** `-o DIR` means type=local; `-o -` a tar on stdout; otherwise `type=…,dest=…,…`. */
export function parseOutputSpec(value: string): OutputSpec {
  if (value === "-") return { type: "tar", dest: "-" };
  if (!value.includes("=")) return { type: "local", dest: value };
  const f = csvFields(value, "--output");
  const type = f.get("type");
  const dest = f.get("dest");
  const bool = (k: string, dflt: boolean) => (f.has(k) ? f.get(k) !== "false" : dflt);
  switch (type) {
    case "local":
    case "tar":
      if (!dest) throw new UsageError(`--output type=${type} needs dest=`);
      return { type, dest };
    case "oci":
    case "docker": {
      if (!dest) throw new UsageError(`--output type=${type} needs dest= (tsbuild has no daemon to load into; use --load for a running Docker)`);
      const spec: OutputSpec = { type, dest, tar: bool("tar", true) };
      const name = f.get("name");
      if (name) spec.name = name;
      const c = f.get("compression");
      if (c === "gzip" || c === "uncompressed" || c === "zstd") spec.compression = c;
      else if (c !== undefined) throw new UsageError(`--output compression=${c} is not supported (gzip, uncompressed, zstd)`);
      return spec;
    }
    case "image":
    case "registry": {
      const spec: OutputSpec = { type, push: type === "registry" || bool("push", false), insecure: bool("registry.insecure", false) };
      const name = f.get("name");
      if (name) spec.name = name;
      return spec;
    }
    default:
      throw new UsageError(`unknown --output type "${type ?? ""}" (local, tar, oci, docker, image, registry)`);
  }
}

/**
 * `--secret id=x,src=path`, `id=x,env=VAR`, `type=file|env`; with only `id`, an environment
 * variable of that name is used if set, else a file of that name (buildx's rule).
 */
export function parseSecretSpec(value: string, env: NodeJS.ProcessEnv): SecretSpec {
  const f = csvFields(value, "--secret");
  const id = f.get("id");
  if (!id) throw new UsageError(`--secret "${value}" needs id=`);
  const src = f.get("src") ?? f.get("source");
  const type = f.get("type");
  if (f.get("env") !== undefined) return { id, env: f.get("env")! };
  if (type === "env") return { id, env: src ?? id };
  if (src !== undefined) return { id, src };
  if (type !== "file" && env[id] !== undefined) return { id, env: id };
  return { id, src: id };
}
