/**
 * Flag parsing of typed instructions, after BuildKit's bflag.go: `--name=value`; bool flags take
 * a bare `--name` or `=true|false`; "strings" flags repeat; unknown, duplicate and value-less
 * flags are errors (with a suggestion for typos).
 */
import { didYouMean } from "../diagnostics.js";

export class FlagError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

type FlagKind = "string" | "bool" | "strings";

export class InstructionFlags {
  private readonly defs = new Map<string, FlagKind>();
  private readonly values = new Map<string, string[]>();

  constructor(
    private readonly raw: string[],
    private readonly instruction: string,
  ) {}

  string(name: string): this {
    this.defs.set(name, "string");
    return this;
  }
  bool(name: string): this {
    this.defs.set(name, "bool");
    return this;
  }
  strings(name: string): this {
    this.defs.set(name, "strings");
    return this;
  }

  /** Validates every raw flag against the declared ones; throws FlagError. */
  parse(): this {
    for (const word of this.raw) {
      if (!word.startsWith("--")) throw new FlagError("parse/bad-flag", `${this.instruction}: arg ${JSON.stringify(word)} must start with --`);
      const body = word.slice(2);
      const eq = body.indexOf("=");
      const name = eq < 0 ? body : body.slice(0, eq);
      const value = eq < 0 ? undefined : body.slice(eq + 1);
      const kind = this.defs.get(name);
      if (!kind) {
        throw new FlagError(
          "parse/unknown-flag",
          `unknown flag: --${name} for ${this.instruction}${didYouMean(name, [...this.defs.keys()]).replace(/mean (\S)/, "mean --$1")}`,
        );
      }
      const seen = this.values.get(name);
      if (seen && kind !== "strings") throw new FlagError("parse/duplicate-flag", `duplicate flag specified: --${name}`);
      if (kind === "bool") {
        const v = (value ?? "true").toLowerCase();
        if (v !== "true" && v !== "false") {
          throw new FlagError("parse/bad-flag-value", `expecting boolean value for flag --${name}, not: ${value}`);
        }
        this.values.set(name, [v]);
      } else {
        if (value === undefined) throw new FlagError("parse/missing-flag-value", `missing a value on flag: --${name}`);
        this.values.set(name, [...(seen ?? []), value]);
      }
    }
    return this;
  }

  get(name: string): string | undefined {
    return this.values.get(name)?.[0];
  }
  getBool(name: string): boolean | undefined {
    const v = this.get(name);
    return v === undefined ? undefined : v === "true";
  }
  getAll(name: string): string[] {
    return this.values.get(name) ?? [];
  }
}
