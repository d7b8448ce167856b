/** Picks the renderer for a progress mode, as buildx does: auto means tty on a terminal, else plain. */
import { PlainRenderer } from "./plain.js";
import { RawJsonRenderer } from "./rawjson.js";
import { TtyRenderer, type TtyOutput } from "./tty.js";
import type { SolveStatus } from "./types.js";

export type RendererMode = "auto" | "plain" | "tty" | "rawjson" | "quiet" | "none";

export interface ProgressRenderer {
  update(status: SolveStatus): void;
  /** Flushes and draws the final state; call once when the build ends. */
  finish(): void;
}

export interface RendererOptions {
  env: NodeJS.ProcessEnv;
  logPathOf?: (vertex: string) => string | undefined;
}

export function resolveMode(mode: RendererMode, out: { isTTY?: boolean }): Exclude<RendererMode, "auto"> {
  return mode === "auto" ? (out.isTTY ? "tty" : "plain") : mode;
}

export function createRenderer(mode: RendererMode, out: TtyOutput & { isTTY?: boolean }, opts: RendererOptions): ProgressRenderer {
  const write = (t: string) => void out.write(t);
  switch (resolveMode(mode, out)) {
    case "plain":
      return new PlainRenderer(write);
    case "rawjson":
      return new RawJsonRenderer(write);
    case "tty": {
      const n = Number(opts.env.BUILDKIT_TTY_LOG_LINES);
      return new TtyRenderer(out, {
        color: !opts.env.NO_COLOR,
        ...(Number.isInteger(n) && n >= 0 && opts.env.BUILDKIT_TTY_LOG_LINES ? { logLines: n } : {}),
        ...(opts.logPathOf ? { logPathOf: opts.logPathOf } : {}),
      });
    }
    default:
      return { update() {}, finish() {} };
  }
}
