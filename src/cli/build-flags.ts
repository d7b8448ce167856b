/**
 * `tsbuild build` flags with buildx's names and value grammar, parsed by node:util parseArgs into
 * BuildOptions plus the settings only the CLI acts on (progress mode, iidfile, metadata file).
 */
import { parseArgs } from "node:util";
import { resolve } from "node:path";
import { UsageError, parseOutputSpec, type BuildOptions, type OutputSpec } from "../index.js";
import { parseCacheSpec, type CacheSpec } from "./cache-spec.js";
import { closest } from "./main.js";

export const PROGRESS_MODES = ["auto", "plain", "tty", "rawjson", "quiet", "none"] as const;
export type ProgressMode = (typeof PROGRESS_MODES)[number];

const OPTIONS = {
  file: { type: "string", short: "f" },
  tag: { type: "string", short: "t", multiple: true },
  "build-arg": { type: "string", multiple: true },
  target: { type: "string" },
  platform: { type: "string" },
  label: { type: "string", multiple: true },
  annotation: { type: "string", multiple: true },
  secret: { type: "string", multiple: true },
  ssh: { type: "string", multiple: true },
  network: { type: "string" },
  "no-cache": { type: "boolean" },
  "no-cache-filter": { type: "string", multiple: true },
  pull: { type: "boolean" },
  progress: { type: "string" },
  quiet: { type: "boolean", short: "q" },
  iidfile: { type: "string" },
  "metadata-file": { type: "string" },
  output: { type: "string", short: "o", multiple: true },
  push: { type: "boolean" },
  load: { type: "boolean" },
  "cache-from": { type: "string", multiple: true },
  "cache-to": { type: "string", multiple: true },
  root: { type: "string" },
  parallelism: { type: "string" },
  memory: { type: "string", short: "m" },
  cpus: { type: "string" },
  "explain-cache": { type: "boolean" },
  "insecure-registry": { type: "string", multiple: true },
  help: { type: "boolean", short: "h" },
} as const;

const BOOLEAN_FLAGS = new Set(Object.entries(OPTIONS).filter(([, o]) => o.type === "boolean").map(([k]) => `--${k}`));

export const BUILD_USAGE = `Usage: tsbuild build [OPTIONS] CONTEXT
       tsbuild [OPTIONS] CONTEXT

Build an image from a Dockerfile, the way "docker buildx build" does, without a daemon.

Options:
  -f, --file PATH             Dockerfile (default: CONTEXT/Dockerfile, else CONTEXT/Containerfile; "-" reads stdin)
  -t, --tag NAME[:TAG]        name the image (repeatable)
      --build-arg K=V|K       set a build-time variable; a bare K takes its value from the environment (repeatable)
      --target STAGE          build up to this stage
      --platform OS/ARCH      target platform (only the host platform is supported)
      --label K=V             set an image label (repeatable)
      --annotation K=V        set a manifest annotation (repeatable)
      --secret SPEC           secret for RUN --mount=type=secret: id=X[,src=PATH|env=VAR] (repeatable)
      --ssh default|ID=PATH   SSH agent socket for RUN --mount=type=ssh (repeatable)
      --network MODE          network for RUN: default, none, host
      --no-cache              do not use the cache
      --no-cache-filter A,B   do not use the cache for these stages
      --pull                  check registries for newer base images
      --progress MODE         auto, plain, tty, rawjson, quiet (default auto; env BUILDKIT_PROGRESS)
  -q, --quiet                 no progress; print the image ID on stdout when done
      --iidfile PATH          write the image ID (config digest) to PATH
      --metadata-file PATH    write the build result metadata (JSON) to PATH
  -o, --output SPEC           type=local|tar|oci|docker|image|registry,dest=…; "-o DIR", "-o -" (repeatable)
      --push                  push every tag after the build (--output type=registry)
      --load                  load the image into a running Docker (docker load)
      --cache-from SPEC       remote cache import (accepted; not supported yet, warns)
      --cache-to SPEC         remote cache export (accepted; not supported yet, warns)
      --root DIR              tsbuild root (default: $TSBUILD_ROOT, else ~/.local/share/tsbuild)
      --parallelism N         steps executing at once (default: CPU count, more while CPUs idle)
  -m, --memory BYTES          memory limit for each RUN (e.g. 512m, 2g)
      --cpus N                CPU limit for each RUN (e.g. 1.5)
      --explain-cache         after the build, list every step as cached or why it missed
      --insecure-registry H   reach registry H[:PORT] over plain http (repeatable)

Environment: BUILDKIT_PROGRESS, NO_COLOR, SOURCE_DATE_EPOCH, DOCKER_CONFIG, TSBUILD_ROOT,
GITHUB_ACTIONS and GITHUB_STEP_SUMMARY (annotations and a job summary in GitHub Actions).

Exit codes: 0 built, 1 build failed, 2 usage error, 130 cancelled.
`;

export interface BuildCliSettings {
  options: BuildOptions;
  /** The Dockerfile comes from stdin (`-f -`). */
  dockerfileFromStdin: boolean;
  progress: ProgressMode;
  /** `-q`: no progress, the image ID on stdout. */
  quiet: boolean;
  iidfile?: string;
  metadataFile?: string;
  explainCache: boolean;
  cacheFrom: CacheSpec[];
  cacheTo: CacheSpec[];
  /** An output writes to stdout (`-o -`), so nothing else may. */
  stdoutIsData: boolean;
}

/** `--pull=false` and `--no-cache=true` are valid buildx spellings; parseArgs knows only `--pull`. */
function normaliseBooleans(argv: string[]): string[] {
  const out: string[] = [];
  for (const a of argv) {
    const m = /^(--[a-z-]+)=(true|false|1|0)$/.exec(a);
    if (m && BOOLEAN_FLAGS.has(m[1]!)) {
      if (m[2] === "true" || m[2] === "1") out.push(m[1]!);
      continue;
    }
    out.push(a);
  }
  return out;
}

function unknownFlag(err: unknown): never {
  const e = err as NodeJS.ErrnoException;
  const flag = /'(-[^']*)'/.exec(e.message)?.[1];
  if (e.code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && flag) {
    const names = Object.keys(OPTIONS).map((k) => `--${k}`);
    const hint = flag.startsWith("--") ? closest(flag, names) : undefined;
    throw new UsageError(`unknown flag: ${flag}${hint ? `; did you mean "${hint}"?` : ""}`);
  }
  if (e.code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && flag) {
    throw new UsageError(`flag needs an argument: ${flag}`);
  }
  throw new UsageError(e.message.replace(/\. To specify a positional.*$/s, ""));
}

function keyValues(list: string[] | undefined, flag: string): Record<string, string> | undefined {
  if (!list?.length) return undefined;
  const out: Record<string, string> = {};
  for (const kv of list) {
    const eq = kv.indexOf("=");
    if (eq <= 0) throw new UsageError(`invalid ${flag} "${kv}": expected KEY=VALUE`);
    out[kv.slice(0, eq)] = kv.slice(eq + 1);
  }
  return out;
}

/** Docker's RAMInBytes: a number with an optional b, k, m, g, t suffix (powers of 1024). */
export function parseMemory(s: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([bkmgtp]?)i?b?$/i.exec(s.trim());
  if (!m) throw new UsageError(`invalid --memory "${s}": expected a size such as 512m or 2g`);
  const power = "bkmgtp".indexOf((m[2] || "b").toLowerCase());
  const bytes = Math.floor(Number(m[1]) * 1024 ** power);
  if (bytes <= 0) throw new UsageError(`invalid --memory "${s}": must be positive`);
  return bytes;
}

function positiveNumber(s: string, flag: string, integer: boolean): number {
  const n = Number(s);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw new UsageError(`invalid ${flag} "${s}": expected a positive ${integer ? "whole " : ""}number`);
  }
  return n;
}

function progressMode(flag: string | undefined, env: NodeJS.ProcessEnv): ProgressMode {
  const check = (v: string, source: string): ProgressMode => {
    if ((PROGRESS_MODES as readonly string[]).includes(v)) return v as ProgressMode;
    const hint = closest(v, [...PROGRESS_MODES]);
    throw new UsageError(`invalid ${source} "${v}" (auto, plain, tty, rawjson, quiet)${hint ? `; did you mean "${hint}"?` : ""}`);
  };
  const mode = flag === undefined ? "auto" : check(flag, "--progress");
  // As in buildx, BUILDKIT_PROGRESS only applies when the flag leaves the mode at auto.
  if (mode === "auto" && env.BUILDKIT_PROGRESS) return check(env.BUILDKIT_PROGRESS, "BUILDKIT_PROGRESS");
  return mode;
}

export function parseBuildFlags(argv: string[], env: NodeJS.ProcessEnv, cwd: string): BuildCliSettings {
  let parsed;
  try {
    parsed = parseArgs({ args: normaliseBooleans(argv), options: OPTIONS, allowPositionals: true, strict: true });
  } catch (err) {
    unknownFlag(err);
  }
  const { values: v, positionals } = parsed;
  if (positionals.length !== 1) {
    throw new UsageError(`"tsbuild build" requires exactly 1 argument: the build context${positionals.length ? ` (got ${positionals.join(" ")})` : ""}`);
  }
  if (positionals[0] === "-") throw new UsageError(`a context read from stdin is not supported; use -f - with a context directory`);
  const network = v.network;
  if (network !== undefined && network !== "default" && network !== "none" && network !== "host") {
    throw new UsageError(`invalid --network "${network}" (default, none, host)`);
  }
  const outputs: OutputSpec[] = (v.output ?? []).map((o) => parseOutputSpec(o));
  const abs = (p: string) => resolve(cwd, p);
  for (const o of outputs) if ("dest" in o && o.dest !== "-") o.dest = abs(o.dest);
  const quiet = v.quiet === true;
  const options: BuildOptions = {
    context: abs(positionals[0]!),
    env,
    ...(v.file !== undefined && v.file !== "-" ? { file: abs(v.file) } : {}),
    ...(v.file === "-" ? { file: "-" } : {}),
    ...(v.tag?.length ? { tags: v.tag } : {}),
    ...(v["build-arg"]?.length ? { buildArgs: v["build-arg"] } : {}),
    ...(v.target ? { target: v.target } : {}),
    ...(v.platform ? { platform: v.platform } : {}),
    ...(v.label?.length ? { labels: keyValues(v.label, "--label")! } : {}),
    ...(v.annotation?.length ? { annotations: keyValues(v.annotation, "--annotation")! } : {}),
    ...(v.secret?.length ? { secrets: v.secret } : {}),
    ...(v.ssh?.length ? { ssh: v.ssh } : {}),
    ...(network ? { network } : {}),
    ...(v["no-cache"] ? { noCache: true } : {}),
    ...(v["no-cache-filter"]?.length ? { noCacheFilter: v["no-cache-filter"].flatMap((s) => s.split(",")).map((s) => s.trim()).filter(Boolean) } : {}),
    ...(v.pull ? { pull: true } : {}),
    ...(outputs.length ? { outputs } : {}),
    ...(v.push ? { push: true } : {}),
    ...(v.load ? { load: true } : {}),
    ...(v.root ? { root: abs(v.root) } : {}),
    ...(v.parallelism ? { parallelism: positiveNumber(v.parallelism, "--parallelism", true) } : {}),
    ...(v.memory ? { memoryBytes: parseMemory(v.memory) } : {}),
    ...(v.cpus ? { cpus: positiveNumber(v.cpus, "--cpus", false) } : {}),
    ...(v["insecure-registry"]?.length ? { insecureRegistries: v["insecure-registry"] } : {}),
  };
  const progress = quiet ? "quiet" : progressMode(v.progress, env);
  return {
    options,
    dockerfileFromStdin: v.file === "-",
    progress,
    quiet: quiet || progress === "quiet",
    ...(v.iidfile ? { iidfile: abs(v.iidfile) } : {}),
    ...(v["metadata-file"] ? { metadataFile: abs(v["metadata-file"]) } : {}),
    explainCache: v["explain-cache"] === true,
    cacheFrom: (v["cache-from"] ?? []).map((s) => parseCacheSpec(s, "--cache-from")),
    cacheTo: (v["cache-to"] ?? []).map((s) => parseCacheSpec(s, "--cache-to")),
    stdoutIsData: outputs.some((o) => "dest" in o && o.dest === "-"),
  };
}
