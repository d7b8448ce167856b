/**
 * Planned stages → resolved steps and image configs, after BuildKit's dockerfile2llb dispatchers.
 * Pure: base image configs come in already resolved; nothing here touches the disk.
 */

import type { SourceLocation } from "../errors/index.js";
import { newImageConfig, addHistory } from "../image/config.js";
import type { ImageConfig, Platform } from "../image/types.js";
import { parseMountSpec, chompHeredocContent, type Dockerfile, type Stage } from "../parser/index.js";
import type { CopyInstruction, AddInstruction, Instruction, RunInstruction } from "../parser/index.js";
import { StageScope } from "../parser/scope.js";
import { applyMeta, commandArgs, DEFAULT_SHELL, type MetaChange } from "./stage-config.js";
import type { CopyStep, RunStep, SourceRef, StageBase, StageSteps, Step } from "./steps.js";

export interface ConvertStageInput {
  stage: Stage;
  base: StageBase;
}

export interface ConvertOptions {
  dockerfile: Dockerfile;
  /** Needed stages, dependencies first. */
  stages: ConvertStageInput[];
  buildArgs: ReadonlyMap<string, string>;
  metaArgs: ReadonlyMap<string, string>;
  platform: Platform;
  /** Configs of the base images, by the reference as written in the plan. */
  baseConfigs: ReadonlyMap<string, ImageConfig>;
  /** Resolves a `--from` value (expanded) to a stage index or an image reference. */
  resolveFrom(name: string): SourceRef;
  /** Parses ONBUILD trigger text into instructions (the parser, injected to keep this pure). */
  parseTriggers(expressions: string[]): Instruction[];
  defaultNetwork?: "default" | "none" | "host";
}

export function convertStages(opts: ConvertOptions): Map<number, StageSteps> {
  const out = new Map<number, StageSteps>();
  const single = opts.dockerfile.stages.length === 1;
  for (const { stage, base } of opts.stages) {
    const baseConfig =
      base.kind === "stage" ? out.get(base.index)!.config
      : base.kind === "image" ? opts.baseConfigs.get(base.ref)!
      : newImageConfig(opts.platform);
    out.set(stage.index, convertStage(stage, base, baseConfig, single, opts));
  }
  return out;
}

function convertStage(stage: Stage, base: StageBase, baseConfig: ImageConfig, single: boolean, opts: ConvertOptions): StageSteps {
  const file = opts.dockerfile.file;
  const displayName = stage.name ?? `stage-${stage.index}`;
  const scope = new StageScope({
    escapeToken: opts.dockerfile.escapeToken,
    buildArgs: opts.buildArgs,
    metaArgs: opts.metaArgs,
    baseEnv: (baseConfig.config.Env ?? []).map((e) => splitEnv(e)),
    source: { file, text: opts.dockerfile.text },
  });
  // ONBUILD triggers of the base image run first, and are not inherited further (BuildKit).
  const triggers = baseConfig.config.OnBuild?.length ? opts.parseTriggers(baseConfig.config.OnBuild) : [];
  let config: ImageConfig = { ...baseConfig, config: { ...baseConfig.config, OnBuild: null } };
  if (!baseConfig.config.OnBuild) delete (config.config as { OnBuild?: unknown }).OnBuild;
  const instructions = [...triggers, ...stage.instructions];
  const total = stage.instructions.length + 1;
  const steps: Step[] = [];
  let cmdSet = false;
  instructions.forEach((ins, i) => {
    const position = Math.max(0, i - triggers.length) + 2;
    const label = `[${single ? "" : displayName + " "}${String(position).padStart(String(total).length)}/${total}]`;
    const location = locationOf(file, ins);
    const common = {
      name: `${label} ${oneLine(ins.original)}`,
      location,
      stepId: `${file}#${stage.index}#${i}#${ins.original}`,
      stageName: displayName,
    };
    scope.apply(ins);
    switch (ins.kind) {
      case "run": {
        const step = runStep(ins, scope, config, common, opts);
        steps.push(step);
        config = addHistory(config, { created_by: step.createdBy, comment: "buildkit.dockerfile.v0" });
        return;
      }
      case "copy":
      case "add": {
        const step = copyStep(ins, scope, config, common, opts);
        steps.push(step);
        config = addHistory(config, { created_by: step.createdBy, comment: "buildkit.dockerfile.v0" });
        return;
      }
      case "arg":
      case "from":
        return;
      case "workdir": {
        // BuildKit mkdirs the directory (0755, owned by USER) as its own layer; history keeps a
        // layer entry without the "# buildkit" suffix. Here: a copy of nothing into the dir.
        const before = config;
        config = applyMeta(config, metaChange(ins, scope, config), { cmdSetInStage: cmdSet });
        const wd = config.config.WorkingDir || "/";
        if (wd === "/") return;
        const user = config.config.User ?? "";
        steps.push({
          ...common,
          kind: "copy",
          isAdd: false,
          from: { kind: "context" },
          sources: [],
          contents: [],
          dest: wd + "/",
          workdir: before.config.WorkingDir || "/",
          user,
          ...(user ? { chown: user } : {}),
          link: false,
          parents: false,
          exclude: [],
          createdBy: `WORKDIR ${wd}`,
        });
        config = { ...config, history: (config.history ?? []).map((h, j, all) => (j === all.length - 1 ? { created_by: h.created_by, comment: h.comment } : h)) };
        return;
      }
      default: {
        const change = metaChange(ins, scope, config);
        if (ins.kind === "cmd") cmdSet = true;
        config = applyMeta(config, change, { cmdSetInStage: cmdSet });
      }
    }
  });
  // The final ENV of the stage, as the scope resolved it (ENV values may use ARGs).
  return { index: stage.index, displayName, base, steps, config, location: locationOf(file, stage.from), instructionCount: total };
}

function runStep(ins: RunInstruction, scope: StageScope, config: ImageConfig, common: Omit<RunStep, "kind" | "args" | "env" | "user" | "workdir" | "network" | "security" | "mounts" | "createdBy">, opts: ConvertOptions): RunStep {
  const shell = config.config.Shell ?? DEFAULT_SHELL;
  const args = runArgs(ins, shell);
  const env = [...scope.runEnv()].map(([k, v]) => `${k}=${v}`);
  const mounts = ins.mounts.map((m) => {
    const spec = m.needsExpansion ? parseMountSpec(m.raw, (w) => scope.expand(w, ins.range)) : m;
    return spec.from !== undefined && (spec.type === "bind" || spec.type === "cache")
      ? { spec, from: opts.resolveFrom(spec.from) }
      : { spec };
  });
  const argsPrefix = scope.historyArgs();
  const createdBy = `RUN ${argsPrefix.length ? `|${argsPrefix.length} ${argsPrefix.map(([k, v]) => `${k}=${v}`).join(" ")} ` : ""}${args.join(" ")} # buildkit`;
  return {
    ...common,
    kind: "run",
    args,
    env: withDefaultPath(env),
    user: config.config.User ?? "",
    workdir: config.config.WorkingDir || "/",
    network: ins.network ?? opts.defaultNetwork ?? "default",
    security: ins.security ?? "sandbox",
    mounts,
    createdBy,
  };
}

/** The argv of a RUN, with heredocs handed to the shell the way BuildKit does. */
function runArgs(ins: RunInstruction, shell: string[]): string[] {
  if (!ins.prependShell || ins.heredocs.length === 0) return commandArgs(ins, shell);
  const line = ins.args.join(" ").trim();
  const only = ins.heredocs[0]!;
  // `RUN <<EOF` alone: the body is the script.
  if (ins.heredocs.length === 1 && /^(\d*)<<-?\s*["']?[^\s]*["']?$/.test(line)) {
    const body = only.chomp ? chompHeredocContent(only.content) : only.content;
    return [...shell, body];
  }
  // Otherwise the shell itself reads the heredocs that follow the command line.
  return [...shell, line + "\n" + ins.heredocs.map((h) => h.content + h.name + "\n").join("")];
}

function copyStep(ins: CopyInstruction | AddInstruction, scope: StageScope, config: ImageConfig, common: Omit<CopyStep, "kind" | "isAdd" | "from" | "sources" | "contents" | "dest" | "workdir" | "user" | "link" | "parents" | "exclude" | "createdBy">, opts: ConvertOptions): CopyStep {
  const x = (w: string) => scope.expand(w, ins.range);
  const sources = ins.sources.map(x);
  const dest = x(ins.dest);
  const from: SourceRef = ins.kind === "copy" && ins.from !== undefined ? opts.resolveFrom(x(ins.from)) : { kind: "context" };
  const contents = ins.sourceContents.map((c) => ({ path: c.path, data: c.expand ? x(c.data) : c.data }));
  const step: CopyStep = {
    ...common,
    kind: "copy",
    isAdd: ins.kind === "add",
    from,
    sources,
    contents,
    dest,
    workdir: config.config.WorkingDir || "/",
    user: config.config.User ?? "",
    link: ins.link,
    parents: ins.kind === "copy" ? ins.parents : false,
    exclude: ins.exclude.map(x),
    createdBy: `${ins.kind.toUpperCase()} ${[...sources, ...contents.map((c) => c.path)].join(" ")} ${dest} # buildkit`,
  };
  if (ins.chown !== undefined) step.chown = x(ins.chown);
  if (ins.chmod !== undefined) step.chmod = x(ins.chmod);
  if (ins.kind === "add") {
    if (ins.checksum !== undefined) step.checksum = x(ins.checksum);
    if (ins.keepGitDir !== undefined) step.keepGitDir = ins.keepGitDir;
    if (ins.unpack !== undefined) step.unpack = ins.unpack;
  }
  return step;
}

function metaChange(ins: Exclude<Instruction, RunInstruction | CopyInstruction | AddInstruction>, scope: StageScope, config: ImageConfig): MetaChange {
  const x = (w: string) => scope.expand(w, ins.range);
  const shell = config.config.Shell ?? DEFAULT_SHELL;
  switch (ins.kind) {
    case "env": {
      // The scope already applied this ENV; read the values back in declaration order.
      return { kind: "env", pairs: ins.env.map((kv) => { const key = x(kv.key); return { key, value: scope.env.get(key) ?? "" }; }) };
    }
    case "label":
      return { kind: "label", pairs: ins.labels.map((kv) => ({ key: x(kv.key), value: x(kv.value) })) };
    case "expose":
      return { kind: "expose", ports: ins.ports.flatMap((p) => scope.expandWords(p, ins.range)) };
    case "volume":
      return { kind: "volume", paths: ins.volumes.map(x) };
    case "user":
      return { kind: "user", user: x(ins.user) };
    case "workdir":
      return { kind: "workdir", path: x(ins.path) };
    case "stopsignal":
      return { kind: "stopsignal", signal: x(ins.signal) };
    case "cmd":
    case "entrypoint":
      return { kind: ins.kind, args: commandArgs(ins, shell) };
    case "shell":
      return { kind: "shell", shell: ins.shell };
    case "healthcheck": {
      const h = { Test: ins.test, Interval: ins.interval, Timeout: ins.timeout, StartPeriod: ins.startPeriod, StartInterval: ins.startInterval, Retries: ins.retries };
      const health = Object.fromEntries(Object.entries(h).filter(([k, v]) => k === "Test" || v !== 0));
      return { kind: "healthcheck", health };
    }
    case "onbuild":
      return { kind: "onbuild", expression: ins.expression };
    case "maintainer":
      return { kind: "maintainer", author: ins.maintainer };
    case "arg":
    case "from":
      throw new Error(`unreachable: ${ins.kind} is not a metadata change`);
  }
}

function withDefaultPath(env: string[]): string[] {
  return env.some((e) => e.startsWith("PATH=")) ? env : ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", ...env];
}

function splitEnv(e: string): [string, string] {
  const i = e.indexOf("=");
  return i === -1 ? [e, ""] : [e.slice(0, i), e.slice(i + 1)];
}

function oneLine(s: string): string {
  return s.replace(/\s*\n\s*/g, " ").trim();
}

function locationOf(file: string, ins: { range: { start: { line: number; column: number }; end: { line: number; column: number } } }): SourceLocation {
  return { file, line: ins.range.start.line, column: ins.range.start.column, endLine: ins.range.end.line, endColumn: ins.range.end.column };
}

