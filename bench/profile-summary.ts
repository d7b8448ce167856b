/**
 * Top self-time functions of a V8 .cpuprofile (from `node --cpu-prof`).
 * Usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [TOP=15]
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

export interface SelfTime {
  fn: string;
  where: string;
  selfMs: number;
  pct: number;
}

export function summariseProfile(file: string, top = 15): { totalMs: number; rows: SelfTime[] } {
  const p = JSON.parse(readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, { fn: string; where: string; us: number }>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const node = byId.get(p.samples[i]!);
    const dt = p.timeDeltas[i + 1] ?? p.timeDeltas[i] ?? 0; // a sample's time runs until the next one
    total += dt;
    if (!node) continue;
    const f = node.callFrame;
    const url = f.url.replace(/^file:\/\//, "").replace(/^.*\/(src|bench|node_modules)\//, "$1/");
    const where = url ? `${url}:${f.lineNumber + 1}` : "";
    const key = `${f.functionName}|${where}`;
    const e = self.get(key) ?? { fn: f.functionName || "(anonymous)", where, us: 0 };
    e.us += dt;
    self.set(key, e);
  }
  const rows = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ fn: e.fn, where: e.where, selfMs: e.us / 1000, pct: total ? (100 * e.us) / total : 0 }));
  return { totalMs: total / 1000, rows };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write("usage: node --import tsx bench/profile-summary.ts FILE.cpuprofile [TOP]\n");
    process.exit(2);
  }
  const { totalMs, rows } = summariseProfile(file, Number(process.argv[3] ?? 15));
  process.stdout.write(`profiled ${totalMs.toFixed(0)} ms of the main thread\n`);
  for (const r of rows) process.stdout.write(`${r.selfMs.toFixed(1).padStart(9)} ms ${r.pct.toFixed(1).padStart(5)} %  ${r.fn}  ${r.where}\n`);
}
