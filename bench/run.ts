/**
 * The cache benchmark: tsbuild side by side with BuildKit (dockerd 20.10) and buildah.
 *
 *   npm run bench [-- --scenario NAME[,NAME] --runs N --with auto|none|buildkit,buildah --work DIR --no-profile]
 *
 * Contexts are generated once, deterministically, under --work (default $TMPDIR/tsbuild-bench) and
 * reused. Each round runs every builder once (A B A B …); cold runs start from the builder's cold
 * state (reset is untimed). Writes bench/results/latest.{json,md,svg}. See bench/README.md.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { makeBusyboxImage } from "../fixtures/make-base-images.js";
import { BuildahBuilder, BuildkitBuilder, TsbuildBuilder, launcherEnv, type Builder, type BuilderName } from "./lib/builders.js";
import { median, sh, timed, type RunResult } from "./lib/measure.js";
import { markdown, parsePlainSteps, ratio, svg, type Cell, type Results, type Row, type TargetCheck } from "./lib/report.js";
import { ALL_SCENARIOS, EXPORT_LAYER_MIB, type PreparedScenario, type Scenario, type Variant } from "./lib/scenarios.js";
import { realPackages } from "./lib/real-packages.js";
import { summariseProfile } from "./profile-summary.js";
import { emptyTrash, useTrash } from "./lib/trash.js";
import { settle } from "./lib/settle.js";

const HERE = dirname(fileURLToPath(import.meta.url));
const REPO = join(HERE, "..");

/**
 * `floor`: what no tsbuild build of this variant can go below. `sleep`: the RUN steps sleep that
 * long (parallel-stages). `node-start`: Node's own start-up (`node -e 0`, measured at the start of
 * the bench), which every tsbuild process pays before it reads a byte; and with `noOpVariant`,
 * tsbuild's no-op rebuild of the same context in this run, whose work the variant does too (plus
 * its own). A ratio limit below the floor is unreachable, and the Targets table says so.
 */
type Floor = { kind: "sleep"; s: number } | { kind: "node-start"; noOpVariant?: string };
type TargetDef = { scenario: string; variant: string; kind: "ratio" | "msPerStep" | "rss"; limit: number; floor?: Floor };
const TARGETS: TargetDef[] = [
  { scenario: "small-app", variant: "cold", kind: "ratio", limit: 0.5 },
  { scenario: "small-app", variant: "no-op", kind: "ratio", limit: 1.0 },
  { scenario: "small-app", variant: "one-file-changed", kind: "ratio", limit: 0.4 },
  { scenario: "small-app", variant: "touch-only", kind: "ratio", limit: 0.3, floor: { kind: "node-start", noOpVariant: "no-op" } },
  { scenario: "parallel-stages", variant: "cold", kind: "ratio", limit: 0.7, floor: { kind: "sleep", s: 2 } },
  { scenario: "large-context", variant: "cold", kind: "ratio", limit: 0.25 },
  { scenario: "large-context", variant: "no-op", kind: "ratio", limit: 0.4 },
  { scenario: "large-context", variant: "cold", kind: "rss", limit: 300 },
  { scenario: "large-context", variant: "no-op", kind: "rss", limit: 300 },
  { scenario: "many-steps", variant: "cold", kind: "ratio", limit: 0.05 },
  { scenario: "many-steps", variant: "cold", kind: "msPerStep", limit: 17 },
  { scenario: "layer-export", variant: "export-oci", kind: "ratio", limit: 0.5 },
];

function log(msg: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${msg}\n`);
}

async function busyboxArchive(work: string): Promise<string> {
  const dir = join(work, "bases");
  const archive = join(dir, "busybox.tar");
  if (existsSync(archive)) return archive;
  mkdirSync(dir, { recursive: true });
  const img = await makeBusyboxImage({ outDir: dir });
  await sh(["skopeo", "copy", "--quiet", `oci:${img.layout}:latest`, `docker-archive:${archive}:busybox:latest`]);
  return archive;
}

function toCell(samples: RunResult[], error?: string): Cell {
  const ok = samples.filter((s) => s.code === 0);
  const daemon = ok.map((s) => s.daemonCpuS).filter((x): x is number => x !== undefined);
  return {
    samples: samples.map(({ wallS, cpuS, rssMiB, daemonCpuS }) => ({ wallS, cpuS, rssMiB, ...(daemonCpuS !== undefined ? { daemonCpuS } : {}) })),
    median: {
      wallS: median(ok.map((s) => s.wallS)),
      cpuS: median(ok.map((s) => s.cpuS)),
      rssMiB: Math.max(...ok.map((s) => s.rssMiB)),
      ...(daemon.length ? { daemonCpuS: median(daemon) } : {}),
    },
    ...(error ? { error } : {}),
  };
}

/**
 * Median wall time of `node -e 0` over 10 runs in the environment tsbuild's launcher gives Node:
 * the start-up every tsbuild process pays.
 */
async function nodeStartS(env: NodeJS.ProcessEnv = launcherEnv(process.env)): Promise<number> {
  const walls: number[] = [];
  for (let i = 0; i < 10; i++) walls.push((await timed([process.execPath, "-e", "0"], { env })).wallS);
  return median(walls);
}

function floorNote(floor: Floor | undefined, need: number, nodeStart: number, noOpS: number | undefined): string {
  if (!floor) return "";
  if (floor.kind === "sleep") return need < floor.s ? `; unreachable in this run: ${need.toFixed(2)} s is below the ${floor.s} s the RUN steps sleep` : "";
  const start = `Node's own start-up (\`node -e 0\`) is ${nodeStart.toFixed(3)} s here`;
  const noOp = noOpS === undefined ? "" : `, and tsbuild's no-op rebuild of this context, whose work this build also does, ${noOpS.toFixed(3)} s`;
  const floorS = Math.max(nodeStart, noOpS ?? 0);
  return need < floorS ? `; unreachable in this run: ${start}${noOp}` : `; ${start}${noOp}`;
}

function checkTarget(def: TargetDef, row: Row, nodeStart: number, rows: readonly Row[]): TargetCheck {
  const t = row.cells.tsbuild;
  const base = { scenario: def.scenario, variant: def.variant, limit: def.limit };
  if (!t || t.error) return { ...base, what: def.kind, value: null, met: null };
  if (def.kind === "rss") {
    const v = t.median.rssMiB;
    return { ...base, what: "tsbuild peak RSS MiB", value: v, met: v <= def.limit, ...(v > def.limit ? { by: `${(v - def.limit).toFixed(0)} MiB over` } : {}) };
  }
  if (def.kind === "msPerStep") {
    const v = (t.median.wallS * 1000) / 40;
    return { ...base, what: "tsbuild ms per step", value: v, met: v <= def.limit, ...(v > def.limit ? { by: `${(v / def.limit).toFixed(1)}× the limit` } : {}) };
  }
  const q = ratio(row, "buildkit");
  if (q === null) return { ...base, what: "tsbuild ÷ BuildKit", value: null, met: null };
  const need = def.limit * row.cells.buildkit!.median.wallS;
  const noOpVariant = def.floor?.kind === "node-start" ? def.floor.noOpVariant : undefined;
  const noOpRow = noOpVariant ? rows.find((r) => r.scenario === def.scenario && r.variant === noOpVariant) : undefined;
  const noOpCell = noOpRow?.cells.tsbuild;
  const floor = floorNote(def.floor, need, nodeStart, noOpCell && !noOpCell.error ? noOpCell.median.wallS : undefined);
  return {
    ...base,
    what: "tsbuild ÷ BuildKit",
    value: q,
    met: q <= def.limit,
    ...(q > def.limit ? { by: `${(q / def.limit).toFixed(1)}× the limit: ${t.median.wallS.toFixed(3)} s, needs ≤ ${need.toFixed(3)} s${floor}` } : {}),
  };
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      scenario: { type: "string" },
      runs: { type: "string", default: "5" },
      with: { type: "string", default: "auto" },
      work: { type: "string", default: join(tmpdir(), "tsbuild-bench") },
      "no-profile": { type: "boolean", default: false },
      out: { type: "string", default: join(HERE, "results") },
    },
  });
  const runs = Number(values.runs);
  const work = values.work!;
  mkdirSync(work, { recursive: true });
  useTrash(work);
  emptyTrash(); // an earlier invocation that was stopped before its end
  const all = [...ALL_SCENARIOS, realPackages];
  const wanted = values.scenario ? values.scenario.split(",") : all.map((s) => s.name);
  for (const w of wanted) if (!all.some((s) => s.name === w)) throw new Error(`unknown scenario ${w}; known: ${all.map((s) => s.name).join(", ")}`);
  const scenarios = all.filter((s) => wanted.includes(s.name));

  const tsbuild = new TsbuildBuilder();
  const candidates: Builder[] = [new BuildkitBuilder(), new BuildahBuilder()];
  const builderStatus = { tsbuild: "ok", buildkit: "not requested", buildah: "not requested" } as Record<BuilderName, string>;
  const builders: Builder[] = [tsbuild];
  const requested = values.with === "auto" ? ["buildkit", "buildah"] : values.with === "none" ? [] : values.with!.split(",");
  for (const c of candidates) {
    if (!requested.includes(c.name)) continue;
    const why = await c.unavailable();
    builderStatus[c.name] = why ?? "ok";
    if (!why) builders.push(c);
  }
  log(`builders: ${builders.map((b) => b.name).join(", ")}; runs ${runs}; work ${work}`);

  const busybox = await busyboxArchive(work);
  for (const b of builders) {
    await b.setup(work);
    await b.loadBase(busybox, "busybox:latest");
  }
  const tsbuildMode = tsbuild.mode;
  log(`tsbuild timed as ${tsbuildMode}`);
  const nodeStart = await nodeStartS();
  log(`node -e 0: ${nodeStart.toFixed(3)} s (median of 10)`);
  // Node parses the file NODE_EXTRA_CA_CERTS names before running anything; the launcher spares tsbuild that
  const extraCa = process.env.NODE_EXTRA_CA_CERTS ? `; NODE_EXTRA_CA_CERTS is set: with it \`node -e 0\` takes ${(await nodeStartS(process.env)).toFixed(3)} s (tsbuild's launcher moves it aside)` : "";

  const results: Results = {
    date: new Date().toISOString(),
    commit: execFileSync("git", ["-C", REPO, "rev-parse", "--short", "HEAD"], { encoding: "utf8" }).trim(),
    machine: `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, load ${loadavg()[0]!.toFixed(2)} at start, \`node -e 0\` ${nodeStart.toFixed(3)} s${extraCa}`,
    runs,
    tsbuildMode,
    builders: builderStatus,
    skipped: [],
    rows: [],
    targets: [],
    profiles: [],
    notes: [],
  };
  const save = () => {
    mkdirSync(values.out!, { recursive: true });
    writeFileSync(join(values.out!, "latest.json"), `${JSON.stringify(results, null, 2)}\n`);
    writeFileSync(join(values.out!, "latest.md"), markdown(results));
    writeFileSync(join(values.out!, "latest.svg"), svg(results));
  };

  try {
    for (const sc of scenarios) {
      if (sc.bases) {
        const base = await sc.bases(work);
        if ("skip" in base) {
          log(`skip ${sc.name}: ${base.skip}`);
          results.skipped.push({ scenario: sc.name, reason: base.skip });
          save();
          continue;
        }
        for (const b of builders) await b.loadBase(base.archive, base.name);
      }
      const t0 = performance.now();
      const prepared = sc.prepare(work);
      log(`${sc.name}: context ${prepared.files} files, ${(prepared.bytes / 2 ** 20).toFixed(0)} MiB ready in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
      for (const v of sc.variants(prepared)) {
        const row = await runVariant(sc, v, prepared, builders, runs, work);
        results.rows.push(row);
        for (const def of TARGETS.filter((d) => d.scenario === sc.name && d.variant === v.name)) {
          const check = checkTarget(def, row, nodeStart, results.rows);
          results.targets.push(check);
          if (check.met === false && !values["no-profile"] && !results.profiles.some((p) => p.scenario === sc.name && p.variant === v.name)) {
            const prof = await profileVariant(tsbuild, sc, v, prepared, work, runs);
            if (prof) results.profiles.push(prof);
          }
        }
        // rows without a target are profiled too when tsbuild is slower than BuildKit
        const q = ratio(row, "buildkit");
        const hasTarget = TARGETS.some((d) => d.scenario === sc.name && d.variant === v.name);
        if (!hasTarget && q !== null && q > 1 && !values["no-profile"]) {
          const prof = await profileVariant(tsbuild, sc, v, prepared, work, runs);
          if (prof) results.profiles.push(prof);
        }
        save();
      }
    }
  } finally {
    for (const b of builders) await b.teardown();
    emptyTrash();
  }
  save();
  process.stdout.write(markdown(results));
}

function request(sc: Scenario, v: Variant, p: PreparedScenario, b: BuilderName, round: number, work: string) {
  const exportDir = join(work, "export");
  if (v.export) mkdirSync(exportDir, { recursive: true });
  return {
    context: p.context,
    dockerfile: p.dockerfile,
    tag: `bench/${sc.name}:latest`,
    ...(v.noCache ? { noCache: true } : {}),
    ...(v.parallelism ? { parallelism: v.parallelism } : {}),
    ...(v.export ? { ociDest: join(exportDir, `${b}-${round}.tar`) } : {}),
  };
}

async function runVariant(sc: Scenario, v: Variant, p: PreparedScenario, builders: Builder[], runs: number, work: string): Promise<Row> {
  const samples = new Map<BuilderName, RunResult[]>(builders.map((b) => [b.name, []]));
  const errors = new Map<BuilderName, string>();
  if (v.kind === "warm") {
    for (const b of builders) {
      const r = await b.build(request(sc, v, p, b.name, -1, work));
      if (r.code !== 0) errors.set(b.name, `warm-up build failed: ${r.stderr.trim().split("\n").slice(-3).join(" ")}`);
    }
  }
  for (let round = 0; round < runs; round++) {
    v.mutate?.(round);
    // The order turns every round: a builder's run changes the disk for the next one (buildah
    // deletes its working containers, and creates right after a big deletion are slow on this
    // ext4, see lib/trash.ts), so no builder always follows the same one.
    const order = builders.map((_, i) => builders[(i + round) % builders.length]!);
    for (const b of order) {
      if (errors.has(b.name)) continue;
      if (v.kind === "cold") await b.reset();
      const quiet = await settle();
      if (!quiet.idle) log(`${sc.name}/${v.name} round ${round + 1}: the machine was not idle after ${(quiet.waitedMs / 1000).toFixed(1)} s; timing anyway`);
      const r = await b.build(request(sc, v, p, b.name, round, work));
      if (r.code !== 0) {
        errors.set(b.name, r.stderr.trim().split("\n").slice(-3).join(" ") || `exit ${r.code}`);
        log(`${sc.name}/${v.name} ${b.name} failed:\n${r.stderr.slice(-2000)}`);
        continue;
      }
      samples.get(b.name)!.push(r);
      log(`${sc.name}/${v.name} round ${round + 1}/${runs} ${b.name}: ${r.wallS.toFixed(3)} s wall, ${(r.cpuS + (r.daemonCpuS ?? 0)).toFixed(2)} s CPU, ${r.rssMiB.toFixed(0)} MiB`);
    }
  }
  const row: Row = { scenario: sc.name, variant: v.name, cells: {} };
  for (const b of builders) row.cells[b.name] = toCell(samples.get(b.name)!, errors.get(b.name));
  const extra: Partial<Record<BuilderName, string>> = {};
  for (const b of builders) {
    const c = row.cells[b.name]!;
    if (c.error || !Number.isFinite(c.median.wallS)) continue;
    if (sc.name === "many-steps") extra[b.name] = `${((c.median.wallS * 1000) / 40).toFixed(0)} ms/step`;
    if (sc.name === "parallel-stages") extra[b.name] = `${(c.median.wallS / 2).toFixed(2)}× the 2 s ideal`;
    if (sc.name === "layer-export") extra[b.name] = `${(EXPORT_LAYER_MIB / c.median.wallS).toFixed(0)} MiB/s`;
  }
  if (Object.keys(extra).length) row.extra = extra as Record<BuilderName, string>;
  return row;
}

/** One more tsbuild run of the variant under `node --cpu-prof`; summarises the main process profile. */
async function profileVariant(t: TsbuildBuilder, sc: Scenario, v: Variant, p: PreparedScenario, work: string, runs: number) {
  const dir = join(REPO, "bench", "results", "tmp", "profiles", `${sc.name}-${v.name}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  v.mutate?.(runs + 1);
  if (v.kind === "cold") await t.reset();
  await settle();
  const r = await t.build(request(sc, v, p, "tsbuild", runs + 1, work), { cpuProfDir: dir });
  const files = readdirSync(dir).filter((f) => f.endsWith(".cpuprofile"));
  if (r.code !== 0 || files.length === 0) return undefined;
  const biggest = files.sort((a, b) => statSync(join(dir, b)).size - statSync(join(dir, a)).size)[0]!;
  const { totalMs, rows } = summariseProfile(join(dir, biggest), 12);
  log(`profiled ${sc.name}/${v.name}: ${r.wallS.toFixed(2)} s wall; top: ${rows.slice(0, 3).map((x) => `${x.fn} ${x.selfMs.toFixed(0)} ms`).join(", ")}`);
  return {
    scenario: sc.name,
    variant: v.name,
    wallS: r.wallS,
    totalMs,
    file: `bench/results/tmp/profiles/${sc.name}-${v.name}/${biggest}`,
    top: rows,
    steps: parsePlainSteps(r.stderr).slice(0, 8),
    children: r.children ?? [],
  };
}

main().catch((err: unknown) => {
  process.stderr.write(`${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
