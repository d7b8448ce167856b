/**
 * `planBuild`: which stages a target needs and in which order, with global ARGs resolved for FROM
 * lines, after BuildKit's dockerfile2llb (buildMetaArgs, toDispatchState, reachability). Only
 * stages the target reaches are expanded, so an unneeded stage can never fail the build.
 */
import type { Dockerfile, Stage } from "./dockerfile.js";
import { locatedError, type SourceRef } from "./diagnostics.js";
import type { Instruction } from "./instructions/types.js";
import { formatPlatform, hostPlatform, platformArgs, PROXY_ARGS, type Platform } from "./platform.js";
import { StageScope } from "./scope.js";
import { ShellLex } from "./shell/lex.js";
import type { Range } from "./types.js";

export interface PlanOptions {
  /** Stage name (case-insensitive) to build; default: the last stage. */
  target?: string;
  /** `--build-arg` values; undefined means "take it from `env`" (bare `--build-arg K`). */
  buildArgs?: Record<string, string | undefined>;
  env?: NodeJS.ProcessEnv;
  /** Target platform; default: the host's. */
  platform?: Platform;
}

export type StageBase = { kind: "stage"; index: number } | { kind: "image"; ref: string } | { kind: "scratch" };

export interface PlannedStage {
  index: number;
  name?: string;
  base: StageBase;
  /** The expanded `FROM --platform` value, when given. */
  platform?: string;
  /** Indexes of the stages this one needs, ascending. */
  dependsOn: number[];
  stage: Stage;
}

export interface PlanEdge {
  /** The stage depended upon. */
  from: number;
  /** The stage that needs it. */
  to: number;
  kind: "from" | "copy" | "mount";
}

export interface BuildPlan {
  target: { index: number; name?: string };
  platform: Platform;
  /** Needed stages only, dependencies before dependents. */
  stages: PlannedStage[];
  edges: PlanEdge[];
  /** Effective build args (bare `--build-arg K` resolved from the environment). */
  buildArgs: Record<string, string>;
  /** Build args no global ARG or needed stage declared (built-in ones excluded). */
  unusedBuildArgs: string[];
  /** Global ARG values as FROM lines see them (automatic platform ARGs included). */
  metaArgs: Record<string, string>;
}

const isBuiltinArg = (k: string) => PROXY_ARGS.has(k) || k.startsWith("BUILDKIT_") || k === "SOURCE_DATE_EPOCH";

function effectiveBuildArgs(opts: PlanOptions): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(opts.buildArgs ?? {})) {
    const value = v ?? opts.env?.[k];
    if (value !== undefined) out.set(k, value);
  }
  return out;
}

/** Plans the build of `df`; throws LocatedError for unknown targets, bad FROMs and cycles. */
export function planBuild(df: Dockerfile, opts: PlanOptions = {}): BuildPlan {
  return new Planner(df, opts).plan();
}

class Planner {
  private readonly src: SourceRef;
  private readonly buildArgs: Map<string, string>;
  private readonly platform: Platform;
  private readonly meta: Map<string, string>;
  private readonly used = new Set<string>();
  private readonly lex: ShellLex;
  private readonly planned = new Map<number, PlannedStage>();
  private readonly order: PlannedStage[] = [];
  private readonly edges: PlanEdge[] = [];
  private readonly visiting = new Set<number>();

  constructor(
    private readonly df: Dockerfile,
    opts: PlanOptions,
  ) {
    this.src = { file: df.file, text: df.text };
    this.buildArgs = effectiveBuildArgs(opts);
    this.platform = opts.platform ?? hostPlatform();
    this.lex = new ShellLex(df.escapeToken);
    this.meta = this.resolveMetaArgs(platformArgs(this.platform, hostPlatform()));
    this.targetName = opts.target;
  }
  private readonly targetName: string | undefined;

  plan(): BuildPlan {
    const target = this.findTarget();
    this.visit(target.index, target.from.range);
    return {
      target: { index: target.index, ...(target.name ? { name: target.name } : {}) },
      platform: this.platform,
      stages: this.order,
      edges: this.edges,
      buildArgs: Object.fromEntries(this.buildArgs),
      unusedBuildArgs: [...this.buildArgs.keys()].filter((k) => !this.used.has(k) && !isBuiltinArg(k)).sort(),
      metaArgs: Object.fromEntries(this.meta),
    };
  }

  private findTarget(): Stage {
    const stages = this.df.stages;
    if (this.targetName === undefined) return stages[stages.length - 1]!;
    const want = this.targetName.toLowerCase();
    const found = stages.find((s) => s.name === want);
    if (found) return found;
    const names = stages.flatMap((s) => (s.name ? [s.name] : []));
    const first = stages[0]!.from.range;
    throw locatedError("plan/unknown-target", `failed to reach build target ${this.targetName} in Dockerfile`, this.src, first, [
      names.length ? `stages with a name: ${names.join(", ")}` : "no stage has a name (use FROM image AS name)",
    ]);
  }

  private resolveMetaArgs(initial: Map<string, string>): Map<string, string> {
    const env = new Map(initial);
    for (const [k, v] of this.buildArgs) if (env.has(k)) env.set(k, v);
    for (const ins of this.df.metaArgs) {
      for (const a of ins.args) {
        if (this.buildArgs.has(a.key)) {
          env.set(a.key, this.buildArgs.get(a.key)!);
          this.used.add(a.key);
        } else if (a.value !== undefined) {
          env.set(a.key, this.expandMeta(a.value, ins.range, env));
        }
      }
    }
    return env;
  }

  private expandMeta(word: string, at: Range, env: ReadonlyMap<string, string> = this.meta): string {
    try {
      return this.lex.processWord(word, env);
    } catch (e) {
      if (e instanceof Error && "code" in e) throw locatedError(String(e.code), e.message, this.src, at);
      throw e;
    }
  }

  /** Plans stage `index` after everything it needs; `via` locates cycle errors. */
  private visit(index: number, via: Range): void {
    if (this.planned.has(index)) return;
    const stage = this.df.stages[index]!;
    if (this.visiting.has(index)) {
      throw locatedError("plan/stage-cycle", `circular dependency detected on stage: ${stage.name ?? index}`, this.src, via);
    }
    this.visiting.add(index);
    const base = this.resolveBase(stage);
    const deps: PlanEdge[] = base.kind === "stage" ? [{ from: base.index, to: index, kind: "from" }] : [];
    for (const ins of stage.instructions) deps.push(...this.instructionEdges(ins, stage));
    for (const e of deps) this.visit(e.from, this.edgeRange(stage, e));
    this.usedArgsOf(stage);
    const platform = stage.from.platform === undefined ? undefined : this.expandMeta(stage.from.platform, stage.from.range);
    const p: PlannedStage = {
      index,
      ...(stage.name ? { name: stage.name } : {}),
      base,
      ...(platform !== undefined ? { platform } : {}),
      dependsOn: [...new Set(deps.map((e) => e.from))].sort((a, b) => a - b),
      stage,
    };
    for (const e of deps) {
      if (!this.edges.some((x) => x.from === e.from && x.to === e.to && x.kind === e.kind)) this.edges.push(e);
    }
    this.visiting.delete(index);
    this.planned.set(index, p);
    this.order.push(p);
  }

  private edgeRange(stage: Stage, e: PlanEdge): Range {
    return e.kind === "from" ? stage.from.range : (this.edgeSites.get(`${e.to}:${e.from}:${e.kind}`) ?? stage.range);
  }
  private readonly edgeSites = new Map<string, Range>();

  private resolveBase(stage: Stage): StageBase {
    const ref = this.expandMeta(stage.from.image, stage.from.range);
    if (ref === "") {
      throw locatedError("plan/empty-base", `base name (${stage.from.image}) should not be blank`, this.src, stage.from.range);
    }
    if (ref === "scratch") return { kind: "scratch" };
    const lower = ref.toLowerCase();
    const prev = this.df.stages.find((s) => s.index < stage.index && s.name === lower);
    return prev ? { kind: "stage", index: prev.index } : { kind: "image", ref };
  }

  /** Stage edges of `COPY --from` and `RUN --mount from=` (unknown names are image references). */
  private instructionEdges(ins: Instruction, stage: Stage): PlanEdge[] {
    const refs: [string, "copy" | "mount"][] = [];
    if (ins.kind === "copy" && ins.from !== undefined) refs.push([ins.from, "copy"]);
    if (ins.kind === "run") for (const m of ins.mounts) if (m.from !== undefined) refs.push([m.from, "mount"]);
    const out: PlanEdge[] = [];
    for (const [ref, kind] of refs) {
      const dep = this.stageRef(ref, ins.range);
      if (dep === undefined) continue;
      if (dep === stage.index) {
        throw locatedError("plan/stage-cycle", `circular dependency detected on stage: ${stage.name ?? stage.index}`, this.src, ins.range);
      }
      this.edgeSites.set(`${stage.index}:${dep}:${kind}`, ins.range);
      out.push({ from: dep, to: stage.index, kind });
    }
    return out;
  }

  private stageRef(ref: string, at: Range): number | undefined {
    const byName = this.df.stages.find((s) => s.name === ref.toLowerCase());
    if (byName) return byName.index;
    if (!/^\d+$/.test(ref)) return undefined;
    const n = Number(ref);
    if (n >= this.df.stages.length) throw locatedError("plan/bad-stage-index", `invalid stage index ${ref}`, this.src, at);
    return n;
  }

  private usedArgsOf(stage: Stage): void {
    const scope = new StageScope({
      escapeToken: this.df.escapeToken,
      buildArgs: this.buildArgs,
      metaArgs: this.meta,
      source: this.src,
    });
    for (const ins of stage.instructions) scope.apply(ins);
    for (const k of scope.usedBuildArgs) this.used.add(k);
  }
}

/** The JSON form of a plan (`tsbuild plan --format json`): stages without their instructions. */
export function planToJson(plan: BuildPlan): unknown {
  return {
    ...plan,
    platform: formatPlatform(plan.platform),
    stages: plan.stages.map(({ stage, ...rest }) => ({
      ...rest,
      from: { line: stage.from.range.start.line, text: stage.from.original.trim() },
      instructions: stage.instructions.length,
    })),
  };
}

