/**
 * ARG/ENV scope of one stage, walked instruction by instruction, after BuildKit's dispatchArg and
 * dispatchEnv: an `ARG` takes the build-arg value, else its expanded default, else the global
 * (meta) value of the same name; ENV always wins over ARG, for expansion and for RUN.
 */
import type { LocatedError } from "../errors/index.js";
import { locatedError, type SourceRef } from "./diagnostics.js";
import type { ArgInstruction, EnvInstruction, Instruction } from "./instructions/types.js";
import { PROXY_ARGS } from "./platform.js";
import { ShellLex } from "./shell/lex.js";
import type { Range } from "./types.js";

/** Instructions whose words BuildKit variable-expands (RUN/CMD/ENTRYPOINT are left to the shell). */
export const EXPANDING_KINDS = new Set([
  "add", "copy", "env", "expose", "from", "label", "stopsignal", "user", "volume", "workdir",
]);

export interface StageScopeOptions {
  escapeToken: "\\" | "`";
  /** Effective build args (`--build-arg`), already resolved from the environment. */
  buildArgs: ReadonlyMap<string, string>;
  /** Global ARG values (before the first FROM, plus the automatic platform ARGs). */
  metaArgs: ReadonlyMap<string, string>;
  /** ENV inherited from the base image. */
  baseEnv?: Iterable<readonly [string, string]>;
  /** Where the Dockerfile text is, to turn expansion errors into LocatedErrors. */
  source?: SourceRef;
}

export class StageScope {
  /** ENV of the stage (base image env, then ENV instructions). */
  readonly env = new Map<string, string>();
  /** ARGs declared in this stage so far, in order; undefined = declared without a value. */
  readonly args = new Map<string, string | undefined>();
  /** Build args this stage consumed (declared with a matching --build-arg). */
  readonly usedBuildArgs = new Set<string>();
  private readonly lex: ShellLex;

  constructor(private readonly opts: StageScopeOptions) {
    this.lex = new ShellLex(opts.escapeToken);
    for (const [k, v] of opts.baseEnv ?? []) this.env.set(k, v);
  }

  /** The environment words are expanded with: ARG values, overridden by ENV. */
  expansionEnv(): Map<string, string> {
    const out = new Map<string, string>();
    for (const [k, v] of this.args) if (v !== undefined) out.set(k, v);
    for (const [k, v] of this.env) out.set(k, v);
    return out;
  }

  /** Expands one word (quotes removed, no splitting); `at` locates errors. */
  expand(word: string, at?: Range): string {
    return this.wrap(() => this.lex.processWord(word, this.expansionEnv()), at);
  }

  /** Expands and splits into fields. */
  expandWords(word: string, at?: Range): string[] {
    return this.wrap(() => this.lex.processWords(word, this.expansionEnv()), at);
  }

  /** What a RUN sees: ENV, then ARG values not shadowed by ENV, then undeclared proxy build args. */
  runEnv(): Map<string, string> {
    const out = new Map(this.env);
    for (const [k, v] of this.args) if (v !== undefined && !out.has(k)) out.set(k, v);
    for (const [k, v] of this.opts.buildArgs) if (PROXY_ARGS.has(k) && !out.has(k)) out.set(k, v);
    return out;
  }

  /** ARG values as recorded in RUN history (`|N K=V …`): declared ones only, no undeclared proxies. */
  historyArgs(): [string, string][] {
    return [...this.args].filter((e): e is [string, string] => e[1] !== undefined);
  }

  /** Applies ARG and ENV; every other instruction leaves the scope unchanged. */
  apply(ins: Instruction): void {
    if (ins.kind === "arg") this.declare(ins);
    else if (ins.kind === "env") this.setEnv(ins);
  }

  private declare(ins: ArgInstruction): void {
    for (const a of ins.args) {
      const key = this.expand(a.key, ins.range);
      let value: string | undefined;
      if (this.opts.buildArgs.has(key)) {
        value = this.opts.buildArgs.get(key);
        this.usedBuildArgs.add(key);
      } else if (a.value !== undefined) {
        value = this.expand(a.value, ins.range);
      } else {
        value = this.opts.metaArgs.get(key);
      }
      this.args.set(key, value);
    }
  }

  private setEnv(ins: EnvInstruction): void {
    const values = ins.env.map((kv) => [this.expand(kv.key, ins.range), this.expand(kv.value, ins.range)] as const);
    for (const [k, v] of values) this.env.set(k, v);
  }

  private wrap<T>(fn: () => T, at?: Range): T {
    try {
      return fn();
    } catch (e) {
      const src = this.opts.source;
      if (!at || !src || !(e instanceof Error) || !("code" in e)) throw e;
      const err: LocatedError = locatedError(String(e.code), e.message, src, at);
      throw err;
    }
  }
}
