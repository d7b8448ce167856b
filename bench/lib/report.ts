/**
 * Results → bench/results/latest.{json,md,svg}. The SVG is hand-written: one group of bars per
 * scenario row, each bar a builder's median wall time, scaled to the slowest builder of that row.
 */
import type { BuilderName } from "./builders.js";
import type { Sample } from "./measure.js";
import type { SelfTime } from "../profile-summary.js";

export interface Cell {
  samples: Sample[];
  median: { wallS: number; cpuS: number; rssMiB: number; daemonCpuS?: number };
  error?: string;
}

export interface Row {
  scenario: string;
  variant: string;
  cells: Partial<Record<BuilderName, Cell>>;
  /** Extra figure for the row (per-step ms, MB/s, wall vs ideal). */
  extra?: Record<BuilderName, string>;
}

export interface TargetCheck {
  scenario: string;
  variant: string;
  what: string;
  limit: number;
  value: number | null;
  met: boolean | null;
  /** How far off, e.g. "1.8× the limit". */
  by?: string;
}

export interface Profile {
  scenario: string;
  variant: string;
  wallS: number;
  totalMs: number;
  file: string;
  top: SelfTime[];
  /** The slowest steps, from `--progress plain`. */
  steps: { name: string; s: number }[];
  /** CPU by process command in the tsbuild process tree (sampled from /proc). */
  children: { command: string; processes: number; cpuS: number }[];
}

/** Step names and durations from BuildKit-style plain progress (`#N name` … `#N DONE 1.2s`). */
export function parsePlainSteps(text: string): { name: string; s: number }[] {
  const names = new Map<string, string>();
  const out: { name: string; s: number }[] = [];
  for (const line of text.split("\n")) {
    const m = /^#(\d+) (.*)$/.exec(line);
    if (!m) continue;
    const [, id, rest] = m as unknown as [string, string, string];
    if (!names.has(id)) names.set(id, rest);
    const done = /^(?:DONE|CACHED|ERROR) ?([\d.]+)?s?/.exec(rest);
    if (done && names.get(id) !== rest) out.push({ name: names.get(id)!, s: Number(done[1] ?? 0) });
  }
  return out.sort((a, b) => b.s - a.s);
}

export interface Results {
  date: string;
  commit: string;
  machine: string;
  runs: number;
  tsbuildMode: string;
  builders: Record<BuilderName, string>;
  skipped: { scenario: string; reason: string }[];
  rows: Row[];
  targets: TargetCheck[];
  profiles: Profile[];
  notes: string[];
}

const BUILDERS: BuilderName[] = ["tsbuild", "buildkit", "buildah"];
// Milliseconds below 1 s: rebuilds of 0.05-0.1 s differ there.
const fmt = (s: number) => (s >= 10 ? s.toFixed(1) : s >= 1 ? s.toFixed(2) : s.toFixed(3));

export function ratio(row: Row, other: BuilderName, key: "wallS" | "cpuS" = "wallS"): number | null {
  const t = row.cells.tsbuild?.median;
  const o = row.cells[other]?.median;
  if (!t || !o || row.cells.tsbuild?.error || row.cells[other]?.error) return null;
  const ov = key === "cpuS" ? o.cpuS + (o.daemonCpuS ?? 0) : o[key];
  return ov > 0 ? t[key] / ov : null;
}

export function markdown(r: Results): string {
  const present = BUILDERS.filter((b) => r.builders[b] === "ok");
  const out: string[] = [];
  out.push(`# tsbuild cache benchmark — ${r.date}`, "");
  out.push(`Commit ${r.commit}; ${r.machine}; median of ${r.runs} runs per cell; tsbuild timed as ${r.tsbuildMode}.`, "");
  for (const b of BUILDERS) out.push(`- ${b}: ${r.builders[b]}`);
  for (const s of r.skipped) out.push(`- scenario ${s.scenario} skipped: ${s.reason}`);
  out.push("");
  out.push("Cells: median wall s (CPU s user+sys, peak RSS MiB). Ratio = tsbuild ÷ other, wall time (< 1 means tsbuild is faster).", "");
  const head = ["scenario", "variant", "tsbuild"];
  for (const b of present.filter((b) => b !== "tsbuild")) head.push(b, `÷ ${b}`);
  for (const b of BUILDERS.filter((b) => r.builders[b] !== "ok")) head.push(`${b}`);
  head.push("notes");
  out.push(`| ${head.join(" | ")} |`, `|${head.map(() => " --- ").join("|")}|`);
  for (const row of r.rows) {
    const cell = (b: BuilderName) => {
      const c = row.cells[b];
      if (!c) return "–";
      if (c.error) return `failed: ${c.error.slice(0, 60)}`;
      const cpu = c.median.cpuS + (c.median.daemonCpuS ?? 0);
      return `${fmt(c.median.wallS)} (${fmt(cpu)}, ${c.median.rssMiB.toFixed(0)})`;
    };
    const cols = [row.scenario, row.variant, cell("tsbuild")];
    for (const b of present.filter((b) => b !== "tsbuild")) {
      const q = ratio(row, b);
      cols.push(cell(b), q === null ? "–" : `**${q.toFixed(2)}×**`);
    }
    for (let i = BUILDERS.filter((b) => r.builders[b] !== "ok").length; i > 0; i--) cols.push("not installed");
    cols.push(row.extra ? Object.entries(row.extra).map(([b, v]) => `${b}: ${v}`).join("; ") : "");
    out.push(`| ${cols.join(" | ")} |`);
  }
  out.push("", "BuildKit CPU includes dockerd's CPU delta (BuildKit runs inside dockerd and reaps the RUN processes); its RSS is the docker client's only.", "");
  out.push("## Targets (tsbuild median ÷ BuildKit median unless stated)", "");
  out.push("| scenario | variant | target | measured | met |", "| --- | --- | --- | --- | --- |");
  for (const t of r.targets) {
    const v = t.value === null ? "n/a" : t.value.toFixed(t.value < 10 ? 2 : 0);
    const met = t.met === null ? "n/a" : t.met ? "yes" : `**no** (${t.by})`;
    out.push(`| ${t.scenario} | ${t.variant} | ${t.what} ≤ ${t.limit} | ${v} | ${met} |`);
  }
  if (r.profiles.length) {
    out.push("", "## Where the time goes (tsbuild, `node --cpu-prof`, top self time)", "");
    for (const p of r.profiles) {
      out.push(`### ${p.scenario} / ${p.variant} — profiled run ${p.wallS.toFixed(2)} s wall, ${p.totalMs.toFixed(0)} ms on the main thread (${p.file})`, "");
      if (p.steps.length) out.push(`Slowest steps: ${p.steps.slice(0, 5).map((x) => `${x.name.replace(/\|/g, "\\|").slice(0, 60)} ${x.s.toFixed(1)} s`).join("; ")}.`, "");
      if (p.children.length) out.push(`CPU by process: ${p.children.slice(0, 6).map((c) => `${c.command} ×${c.processes} ${c.cpuS.toFixed(2)} s`).join("; ")}.`, "");
      out.push("| self ms | % | function | where |", "| ---: | ---: | --- | --- |");
      for (const t of p.top) out.push(`| ${t.selfMs.toFixed(1)} | ${t.pct.toFixed(1)} | ${t.fn.replace(/\|/g, "\\|")} | ${t.where} |`);
      out.push("");
    }
  }
  if (r.notes.length) out.push("", "## Notes", "", ...r.notes.map((n) => `- ${n}`));
  return `${out.join("\n")}\n`;
}

const COLORS: Record<BuilderName, string> = { tsbuild: "#2b7bb9", buildkit: "#e07b39", buildah: "#6a9a3a" };
const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

export function svg(r: Results): string {
  const present = BUILDERS.filter((b) => r.builders[b] === "ok");
  const barH = 14;
  const rowH = present.length * barH + 14;
  const left = 250;
  const width = 900;
  const barMax = width - left - 250; // room for the label after the longest bar
  const top = 50;
  const height = top + r.rows.length * rowH + 20;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="sans-serif" font-size="12">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="10" y="20" font-size="15" font-weight="bold">tsbuild cache benchmark: median wall time (bars scaled per row to its slowest builder)</text>`);
  present.forEach((b, i) => {
    parts.push(`<rect x="${10 + i * 120}" y="30" width="12" height="12" fill="${COLORS[b]}"/><text x="${26 + i * 120}" y="40">${b}</text>`);
  });
  r.rows.forEach((row, ri) => {
    const y0 = top + ri * rowH;
    const walls = present.map((b) => (row.cells[b] && !row.cells[b]!.error ? row.cells[b]!.median.wallS : 0));
    const max = Math.max(...walls, 1e-9);
    parts.push(`<text x="10" y="${y0 + rowH / 2}">${esc(`${row.scenario} / ${row.variant}`)}</text>`);
    present.forEach((b, i) => {
      const c = row.cells[b];
      const y = y0 + i * barH;
      if (!c || c.error) {
        parts.push(`<text x="${left}" y="${y + barH - 3}" fill="#999">${b}: ${c?.error ? "failed" : "n/a"}</text>`);
        return;
      }
      const w = Math.max(1, (c.median.wallS / max) * barMax);
      const q = b === "tsbuild" ? "" : (() => {
        const v = ratio(row, b);
        return v === null ? "" : `  (tsbuild ÷ ${b} = ${v.toFixed(2)}×)`;
      })();
      parts.push(`<rect x="${left}" y="${y}" width="${w.toFixed(1)}" height="${barH - 2}" fill="${COLORS[b]}"/>`);
      parts.push(`<text x="${(left + w + 4).toFixed(1)}" y="${y + barH - 3}">${fmt(c.median.wallS)} s${esc(q)}</text>`);
    });
  });
  parts.push("</svg>");
  return `${parts.join("\n")}\n`;
}
