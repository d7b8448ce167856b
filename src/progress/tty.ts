/**
 * BuildKit's tty progress: a block redrawn in place (ANSI cursor movement) —
 * `[+] Building 3.2s (5/9)`, one ` => [2/5] RUN …  1.2s` line per vertex, the last lines of each
 * running step as ` => => # …` — that collapses to `[+] Building 4.1s (9/9) FINISHED` at the end.
 */
import type { SolveStatus, VertexUpdate } from "./types.js";

export interface TtyOutput {
  write(text: string): unknown;
  columns?: number;
  rows?: number;
}

export interface TtyOptions {
  color: boolean;
  /** Log lines shown per running step (BUILDKIT_TTY_LOG_LINES, default 6). */
  logLines?: number;
  /** Redraw period; the block is also redrawn on every update, at most this often. */
  intervalMs?: number;
  /** Where a step's full log is kept, printed when the view clipped it. */
  logPathOf?: (vertex: string) => string | undefined;
}

interface Row {
  digest: string;
  name: string;
  startedMs?: number;
  completedMs?: number;
  cached: boolean;
  error?: string;
  lines: string[];
  partial: string;
  /** Lines of output in total, to know whether the view clipped. */
  lineCount: number;
  statuses: Map<string, { current: number; total?: number; done: boolean }>;
}

const ESC = "\x1b[";

export class TtyRenderer {
  private readonly rows = new Map<string, Row>();
  private readonly startMs = Date.now();
  private drawnLines = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastDraw = 0;
  private finished = false;
  private readonly logLines: number;
  private readonly interval: number;

  constructor(private readonly out: TtyOutput, private readonly opts: TtyOptions) {
    this.logLines = Math.max(0, opts.logLines ?? 6);
    this.interval = opts.intervalMs ?? 100;
    this.timer = setInterval(() => this.draw(), this.interval);
    this.timer.unref();
  }

  update(status: SolveStatus): void {
    for (const v of status.vertexes) this.vertex(v);
    for (const s of status.statuses) {
      const r = this.rows.get(s.vertex);
      if (r) r.statuses.set(s.id, { current: s.current, ...(s.total !== undefined ? { total: s.total } : {}), done: s.completed !== undefined });
    }
    for (const l of status.logs) {
      const r = this.rows.get(l.vertex);
      if (!r) continue;
      const parts = (r.partial + Buffer.from(l.data).toString("utf8")).split("\n");
      r.partial = parts.pop() ?? "";
      for (const p of parts) {
        r.lines.push(p.replace(/\r$/, ""));
        r.lineCount++;
      }
      if (r.lines.length > this.logLines) r.lines.splice(0, r.lines.length - this.logLines);
    }
    if (Date.now() - this.lastDraw >= this.interval) this.draw();
  }

  /** Draws the final block and stops redrawing; then lists steps whose output the view clipped. */
  finish(): void {
    if (this.finished) return;
    if (this.timer) clearInterval(this.timer);
    this.draw(true);
    this.finished = true;
    const clipped = [...this.rows.values()].filter((r) => r.lineCount + (r.partial ? 1 : 0) > this.logLines || (r.error !== undefined && r.lineCount > 0));
    const notes: string[] = [];
    for (const r of clipped) {
      const path = this.opts.logPathOf?.(r.digest);
      if (path) notes.push(` => full output of ${r.name}: ${path}`);
    }
    if (notes.length) this.out.write(this.paint(notes.join("\n"), "2") + "\n");
  }

  private vertex(v: VertexUpdate): void {
    let r = this.rows.get(v.digest);
    if (!r) {
      r = { digest: v.digest, name: v.name, cached: false, lines: [], partial: "", lineCount: 0, statuses: new Map() };
      this.rows.set(v.digest, r);
    }
    if (v.started && r.startedMs === undefined) r.startedMs = Date.parse(v.started);
    if (v.completed) r.completedMs = Date.parse(v.completed);
    if (v.cached) r.cached = true;
    if (v.error !== undefined) r.error = v.error;
  }

  private paint(text: string, code: string): string {
    return this.opts.color ? `${ESC}${code}m${text}${ESC}0m` : text;
  }

  private lines(final: boolean): string[] {
    const width = Math.max(40, this.out.columns ?? 80);
    const all = [...this.rows.values()];
    const done = all.filter((r) => r.completedMs !== undefined).length;
    const failed = all.some((r) => r.error !== undefined && r.error !== "context canceled");
    const secs = ((Date.now() - this.startMs) / 1000).toFixed(1);
    const state = final ? (failed ? " ERROR" : " FINISHED") : "";
    const head = `[+] Building ${secs}s (${done}/${all.length})${state}`;
    const out = [this.paint(head, final && failed ? "31" : final ? "34" : "0")];
    const body: string[] = [];
    for (const r of all) {
      const running = r.completedMs === undefined;
      const prefix = r.cached ? "CACHED " : r.error === "context canceled" ? "CANCELED " : r.error !== undefined ? "ERROR " : "";
      const t = r.cached || r.startedMs === undefined ? "" : `${(((r.completedMs ?? Date.now()) - r.startedMs) / 1000).toFixed(1)}s`;
      body.push(this.colourFor(r, fit(` => ${prefix}${r.name}`, t, width)));
      for (const [id, s] of r.statuses) {
        const size = s.total !== undefined ? ` ${s.current}/${s.total}` : "";
        body.push(this.colourFor(r, fit(` => => ${id}${size}${s.done ? " done" : ""}`, "", width)));
      }
      // Output of running steps, and of the failed one in the final view.
      if (running || (final && r.error !== undefined && r.error !== "context canceled")) {
        const shown = r.partial ? [...r.lines, r.partial].slice(-this.logLines) : r.lines;
        for (const l of shown) body.push(this.paint(fit(` => => # ${sanitize(l)}`, "", width), "2"));
      }
    }
    // Keep the block inside the screen: the header, then the newest lines.
    const max = Math.max(3, (this.out.rows ?? 40) - 2);
    return out.concat(final || body.length < max ? body : body.slice(body.length - max + 1));
  }

  private colourFor(r: Row, text: string): string {
    if (r.error === "context canceled") return this.paint(text, "33");
    if (r.error !== undefined) return this.paint(text, "31");
    if (r.completedMs !== undefined) return this.paint(text, "34");
    return text;
  }

  private draw(final = false): void {
    if (this.finished) return;
    this.lastDraw = Date.now();
    const lines = this.lines(final);
    let s = this.drawnLines > 0 ? `${ESC}${this.drawnLines}A\r` : "";
    for (const l of lines) s += `${l}${ESC}K\n`;
    s += `${ESC}J`;
    this.out.write(s);
    this.drawnLines = lines.length;
  }
}

/** Removes control characters a step printed, so they cannot move the cursor. */
function sanitize(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/[\x00-\x08\x0b-\x1f\x7f]/g, "").replace(/\t/g, "  ");
}

/** `left` truncated to leave room for `right`, right-aligned to the terminal width. */
function fit(left: string, right: string, width: number): string {
  const room = width - 1 - (right ? right.length + 1 : 0);
  const l = [...left];
  const text = l.length > room ? l.slice(0, Math.max(0, room - 1)).join("") + "…" : left;
  return right ? text + " ".repeat(Math.max(1, width - 1 - [...text].length - right.length)) + right : text;
}
