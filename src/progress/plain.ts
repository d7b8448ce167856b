import type { SolveStatus, VertexUpdate } from "./types.js";

interface VertexState {
  num: number;
  name: string;
  startedMs?: number;
  completed: boolean;
  /** Bytes of an unfinished log line, per stream. */
  partial: Map<1 | 2, string>;
}

/**
 * BuildKit's plain progress format, line by line: `#N name`, `#N 0.123 log line`, `#N CACHED`,
 * `#N DONE 1.2s`, `#N ERROR: …`, `#N CANCELED`, and `#N ...` when another vertex interrupts an
 * open block. tsbuild adds `#N cache miss: <reason>` when a step had to run.
 */
export class PlainRenderer {
  private readonly vertices = new Map<string, VertexState>();
  private nextNum = 1;
  private open: VertexState | undefined;

  constructor(private readonly write: (text: string) => void) {}

  update(status: SolveStatus): void {
    for (const v of status.vertexes) this.vertex(v);
    for (const s of status.statuses) {
      const st = this.vertices.get(s.vertex);
      if (!st || !s.completed) continue;
      const size = s.total !== undefined ? ` ${humanSize(s.current)} / ${humanSize(s.total)}` : "";
      this.line(st, `${s.id}${size} done`);
    }
    for (const w of status.warnings) {
      const st = this.vertices.get(w.vertex);
      if (st) this.line(st, `WARN: ${w.short}`);
      else this.write(`WARN: ${w.short}\n`);
    }
    for (const l of status.logs) {
      const st = this.vertices.get(l.vertex);
      if (!st) continue;
      const text = (st.partial.get(l.stream) ?? "") + Buffer.from(l.data).toString("utf8");
      const lines = text.split("\n");
      st.partial.set(l.stream, lines.pop() ?? "");
      for (const line of lines) this.line(st, `${elapsed(st)} ${line.replace(/\r$/, "")}`);
    }
  }

  /** Flushes unfinished log lines; call once when the build ends. */
  finish(): void {
    for (const st of this.vertices.values()) {
      for (const [stream, rest] of st.partial) if (rest) this.line(st, `${elapsed(st)} ${rest}`), st.partial.set(stream, "");
    }
    this.closeOpen();
  }

  private vertex(v: VertexUpdate): void {
    let st = this.vertices.get(v.digest);
    if (!st) {
      st = { num: this.nextNum++, name: v.name, completed: false, partial: new Map() };
      this.vertices.set(v.digest, st);
    }
    if (v.started && st.startedMs === undefined) st.startedMs = Date.parse(v.started);
    if (st.completed) return;
    if (v.cacheMiss) this.line(st, `cache miss: ${v.cacheMiss}`);
    else if (!v.completed) this.focus(st);
    if (!v.completed) return;
    st.completed = true;
    if (v.cached) this.line(st, "CACHED");
    else if (v.error === "context canceled") this.line(st, "CANCELED");
    else if (v.error !== undefined) this.line(st, `ERROR: ${v.error}`);
    else this.line(st, `DONE ${((Date.parse(v.completed) - (st.startedMs ?? Date.parse(v.completed))) / 1000).toFixed(1)}s`);
    this.closeOpen();
  }

  /** Makes `st` the open block, printing its header (and `...` for the one it interrupts). */
  private focus(st: VertexState): void {
    if (this.open === st) return;
    if (this.open && !this.open.completed) this.write(`#${this.open.num} ...\n\n`);
    else if (this.open) this.write("\n");
    this.open = st;
    this.write(`#${st.num} ${st.name}\n`);
  }

  private line(st: VertexState, text: string): void {
    this.focus(st);
    this.write(`#${st.num} ${text}\n`);
  }

  private closeOpen(): void {
    if (this.open?.completed) {
      this.write("\n");
      this.open = undefined;
    }
  }
}

/** Seconds since the vertex started, with BuildKit's precision: 3, 2 or 1 decimals. */
function elapsed(st: VertexState): string {
  const s = st.startedMs === undefined ? 0 : Math.max(0, (Date.now() - st.startedMs) / 1000);
  return s.toFixed(s < 10 ? 3 : s < 100 ? 2 : 1);
}

export function humanSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB"];
  let n = bytes;
  let i = 0;
  while (n >= 1000 && i < units.length - 1) (n /= 1000), i++;
  return i === 0 ? `${n}B` : `${n.toFixed(2).replace(/\.?0+$/, "")}${units[i]}`;
}
