/**
 * Every step's full output, one file per vertex, so a renderer that shows only the last lines
 * (tty mode, the failure block) can point at the whole log instead of silently clipping it.
 */
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { SolveStatus } from "./types.js";

export class LogArchive {
  private dir: string | undefined;
  private readonly files = new Map<string, string>();
  private readonly names = new Map<string, string>();
  private readonly lines = new Map<string, number>();

  constructor(private readonly parent: string = tmpdir()) {}

  update(status: SolveStatus): void {
    for (const v of status.vertexes) this.names.set(v.digest, v.name);
    for (const l of status.logs) {
      appendFileSync(this.fileFor(l.vertex), l.data);
      let n = this.lines.get(l.vertex) ?? 0;
      for (const b of l.data) if (b === 10) n++;
      this.lines.set(l.vertex, n);
    }
  }

  /** The file holding a vertex's output, if it printed anything. */
  pathOf(vertex: string): string | undefined {
    return this.files.get(vertex);
  }

  /** The vertex with this name that printed something, if any. */
  vertexNamed(name: string): string | undefined {
    for (const [digest, n] of this.names) if (n === name && this.files.has(digest)) return digest;
    return undefined;
  }

  /** Complete lines a vertex printed. */
  lineCount(vertex: string): number {
    return this.lines.get(vertex) ?? 0;
  }

  /** Deletes the logs; call when nothing was clipped and nobody was shown a path. */
  discard(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
    this.files.clear();
    this.lines.clear();
  }

  private fileFor(vertex: string): string {
    let f = this.files.get(vertex);
    if (!f) {
      this.dir ??= mkdtempSync(join(this.parent, "tsbuild-logs-"));
      f = join(this.dir, `step-${this.files.size + 1}.log`);
      this.files.set(vertex, f);
    }
    return f;
  }
}
