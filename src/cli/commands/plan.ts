/** `tsbuild plan`: parse a Dockerfile and print which stages a target needs, in build order. */
import { readFile } from "node:fs/promises";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { UsageError, formatPlatform, parseDockerfile, parsePlatform, planBuild, planToJson, type BuildPlan, suggest } from "../../index.js";
import type { CliCommand, CliIo } from "../command.js";

const OPTIONS = {
  file: { type: "string", short: "f" },
  target: { type: "string" },
  "build-arg": { type: "string", multiple: true },
  format: { type: "string" },
  platform: { type: "string" },
} as const;

const usage = `Usage: tsbuild plan [OPTIONS] [CONTEXT]

Parse a Dockerfile and show the stages the target needs, dependencies first.

Options:
  -f, --file PATH        Dockerfile (default: CONTEXT/Dockerfile, else CONTEXT/Containerfile; - = stdin)
      --target NAME      stage to plan (default: the last one)
      --build-arg K[=V]  build argument (bare K takes its value from the environment); repeatable
      --platform P       target platform, e.g. linux/arm64 (default: the host's)
      --format FORMAT    text (default) or json
`;

async function readStdin(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === "string" ? Buffer.from(c) : (c as Buffer));
  return Buffer.concat(chunks).toString("utf8");
}

function parseArgv(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (e) {
    const m = /Unknown option '(-{1,2}[^']*)'/.exec((e as Error).message);
    if (m) {
      const known = Object.keys(OPTIONS).map((k) => `--${k}`);
      const hint = suggest(m[1]!.split("=")[0]!, known);
      throw new UsageError(`unknown flag ${m[1]} for "tsbuild plan"${hint ? `; did you mean ${hint}?` : ""}`);
    }
    throw new UsageError((e as Error).message);
  }
}

function dockerfilePath(file: string | undefined, context: string, cwd: string): string {
  if (file !== undefined) return resolve(cwd, file);
  const dir = resolve(cwd, context);
  const docker = resolve(dir, "Dockerfile");
  const container = resolve(dir, "Containerfile");
  return existsSync(docker) || !existsSync(container) ? docker : container;
}

function renderText(plan: BuildPlan): string {
  const lines = [`target: ${plan.target.name ?? `stage ${plan.target.index}`} (${formatPlatform(plan.platform)})`];
  for (const s of plan.stages) {
    const label = s.name ? `${s.index} ${s.name}` : `${s.index}`;
    const base = s.base.kind === "stage" ? `stage ${s.base.index}` : s.base.kind === "image" ? s.base.ref : "scratch";
    const needs = plan.edges.filter((e) => e.to === s.index).map((e) => `${e.kind}:${e.from}`);
    const platform = s.platform ? ` --platform=${s.platform}` : "";
    lines.push(`stage ${label}: FROM ${base}${platform}${needs.length ? ` needs ${needs.join(" ")}` : ""}`);
  }
  if (plan.unusedBuildArgs.length) lines.push(`unused build args: ${plan.unusedBuildArgs.join(", ")}`);
  return lines.join("\n") + "\n";
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parseArgv(argv);
  if (positionals.length > 1) throw new UsageError(`"tsbuild plan" takes at most one CONTEXT, got ${positionals.length}`);
  const format = values.format ?? "text";
  if (format !== "text" && format !== "json") throw new UsageError(`invalid --format ${JSON.stringify(format)}: use text or json`);
  let platform;
  if (values.platform !== undefined) {
    platform = parsePlatform(values.platform);
    if (!platform) throw new UsageError(`invalid --platform ${JSON.stringify(values.platform)}`);
  }
  const buildArgs: Record<string, string | undefined> = {};
  for (const a of values["build-arg"] ?? []) {
    const eq = a.indexOf("=");
    if (eq === 0) throw new UsageError(`invalid --build-arg ${JSON.stringify(a)}: missing name`);
    if (eq < 0) buildArgs[a] = undefined;
    else buildArgs[a.slice(0, eq)] = a.slice(eq + 1);
  }
  let text: string;
  let name: string;
  if (values.file === "-") {
    text = await readStdin(io.stdin);
    name = "Dockerfile";
  } else {
    const path = dockerfilePath(values.file, positionals[0] ?? ".", io.cwd);
    try {
      text = await readFile(path, "utf8");
    } catch (e) {
      throw new UsageError(`cannot read Dockerfile ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
    }
    name = values.file ?? path.slice(path.lastIndexOf("/") + 1);
  }
  const df = parseDockerfile(text, { file: name });
  const plan = planBuild(df, {
    ...(values.target !== undefined ? { target: values.target } : {}),
    buildArgs,
    env: io.env,
    ...(platform ? { platform } : {}),
  });
  io.stdout.write(format === "json" ? JSON.stringify(planToJson(plan), null, 2) + "\n" : renderText(plan));
  return 0;
}

export const command: CliCommand = { summary: "Show the stages a build target needs, in order", usage, run };
