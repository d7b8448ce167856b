/**
 * The benchmark scenarios: each makes its context once (deterministically) and lists variants.
 * A `cold` variant starts every run from the builder's cold state (reset: only base images); a
 * `warm` variant does one untimed build first, then each round applies `mutate` (once, for all
 * builders) and times a rebuild.
 */
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureContext, touchAll, writeTree, type GeneratedTree } from "./contexts.js";

export interface Variant {
  name: string;
  kind: "cold" | "warm";
  noCache?: boolean;
  /** tsbuild's `--parallelism` for this variant (default: the CPU count, and more while CPUs sit idle). */
  parallelism?: number;
  /** Export an OCI tar (layer-export). */
  export?: boolean;
  mutate?: (round: number) => void;
}

export interface PreparedScenario {
  context: string;
  dockerfile: string;
  /** Bytes in the context (or, for layer-export, in the layer written). */
  bytes: number;
  files: number;
  notes?: string;
}

export interface Scenario {
  name: string;
  summary: string;
  /** Extra base images (docker-archive tars) it needs, made by `bases`. */
  bases?: (work: string) => Promise<{ archive: string; name: string } | { skip: string }>;
  prepare(work: string): PreparedScenario;
  variants(p: PreparedScenario): Variant[];
}

function withDockerfile(dir: string, text: string, extra: Record<string, string> = {}): string {
  const df = join(dir, "Dockerfile");
  writeFileSync(df, text);
  for (const [name, body] of Object.entries(extra)) writeFileSync(join(dir, name), body);
  return df;
}

const BUSYBOX = "busybox:latest";

const smallApp: Scenario = {
  name: "small-app",
  summary: "1,000 files / 10 MB, COPY + 3 RUN: cold, no-op, one file changed, mtimes touched",
  prepare(work) {
    const dir = join(work, "ctx", "small-app");
    const tree = ensureContext(dir, "small-app-v1", (d) => writeTree(d, { seed: 1, files: 1000, totalBytes: 10 << 20 }));
    writeFileSync(join(dir, "changing.txt"), "initial\n");
    const df = withDockerfile(
      dir,
      [
        `FROM ${BUSYBOX}`,
        "WORKDIR /app",
        "COPY . /app/",
        "RUN find /app -type f | wc -l > /count",
        "RUN sha256sum /app/changing.txt > /changing.sum",
        "RUN echo built > /built",
        "",
      ].join("\n"),
    );
    return { context: dir, dockerfile: df, bytes: tree.bytes, files: tree.files.length, treeFiles: tree.files } as PreparedScenario & { treeFiles: string[] };
  },
  variants(p) {
    const files = (p as PreparedScenario & { treeFiles: string[] }).treeFiles;
    return [
      { name: "cold", kind: "cold" },
      { name: "no-op", kind: "warm" },
      { name: "one-file-changed", kind: "warm", mutate: (r) => writeFileSync(join(p.context, "changing.txt"), `round ${r} at ${process.hrtime.bigint()}\n`) },
      // As `touch` does: the current time. (Future mtimes would keep every file "racy" for the
      // stat cache, so every later build of every builder would re-read them.)
      { name: "touch-only", kind: "warm", mutate: () => touchAll(p.context, [...files, "changing.txt"], Date.now() / 1000) },
    ];
  },
};

const parallelStages: Scenario = {
  name: "parallel-stages",
  summary: "4 independent stages, each RUN sleep 2 plus a little work; the final stage COPY --from each (ideal 2 s)",
  prepare(work) {
    const dir = join(work, "ctx", "parallel-stages");
    mkdirSync(dir, { recursive: true });
    const stages = [1, 2, 3, 4].flatMap((i) => [`FROM ${BUSYBOX} AS s${i}`, `RUN sleep 2 && seq 1 ${20000 * i} > /out && sha256sum /out > /out.sum`, ""]);
    const df = withDockerfile(dir, [...stages, `FROM ${BUSYBOX}`, ...[1, 2, 3, 4].map((i) => `COPY --from=s${i} /out /s${i}`), ""].join("\n"));
    return { context: dir, dockerfile: df, bytes: 0, files: 0 };
  },
  // tsbuild limits executing steps to the CPU count by default (2 here), so four sleeping RUNs
  // take two waves; the second variant shows the scheduler with room for all four.
  variants: () => [
    { name: "cold", kind: "cold" },
    { name: "cold --parallelism 4", kind: "cold", parallelism: 4 },
  ],
};

const largeContext: Scenario = {
  name: "large-context",
  summary: "50,000 files / 500 MB, a .dockerignore excluding half (node_modules/, build/): cold, no-op",
  prepare(work) {
    const dir = join(work, "ctx", "large-context");
    const tree: GeneratedTree = ensureContext(dir, "large-context-v1", (d) =>
      writeTree(d, { seed: 2, files: 50000, totalBytes: 500 << 20, ignoredDir: (i) => (i % 4 === 1 ? "node_modules" : i % 4 === 3 ? "build" : undefined) }),
    );
    const df = withDockerfile(dir, [`FROM ${BUSYBOX}`, "COPY . /app/", "RUN find /app -type f | wc -l > /count", ""].join("\n"), {
      ".dockerignore": "node_modules\nbuild/\n**/*.log\nDockerfile\n",
    });
    return { context: dir, dockerfile: df, bytes: tree.bytes, files: tree.files.length };
  },
  variants: () => [
    { name: "cold", kind: "cold" },
    { name: "no-op", kind: "warm" },
  ],
};

const manySteps: Scenario = {
  name: "many-steps",
  summary: "40 trivial RUN steps (cold): per-step overhead",
  prepare(work) {
    const dir = join(work, "ctx", "many-steps");
    mkdirSync(dir, { recursive: true });
    const runs = Array.from({ length: 40 }, (_, i) => `RUN echo ${i + 1} >> /steps`);
    const df = withDockerfile(dir, [`FROM ${BUSYBOX}`, ...runs, ""].join("\n"));
    return { context: dir, dockerfile: df, bytes: 0, files: 0 };
  },
  variants: () => [{ name: "cold", kind: "cold" }],
};

/** ~300 MiB: 120 MiB random, 150 MiB repetitive text, 2,000 small number files (~30 MiB). */
export const EXPORT_LAYER_MIB = 300;
const layerExport: Scenario = {
  name: "layer-export",
  summary: "a RUN writes ~300 MB of mixed files (random, text, 2,000 small); timed: cached rebuild + --output type=oci,dest=…",
  prepare(work) {
    const dir = join(work, "ctx", "layer-export");
    mkdirSync(dir, { recursive: true });
    const df = withDockerfile(
      dir,
      [
        `FROM ${BUSYBOX}`,
        "RUN mkdir -p /data/r /data/t /data/s && \\",
        "  for i in $(seq 1 60); do dd if=/dev/urandom of=/data/r/$i bs=1M count=2 2>/dev/null; done && \\",
        "  for i in $(seq 1 100); do yes \"tsbuild bench line $i\" | head -c 1572864 > /data/t/$i; done && \\",
        "  for i in $(seq 1 2000); do seq $i $((i + 2500)) > /data/s/$i; done",
        "",
      ].join("\n"),
    );
    return { context: dir, dockerfile: df, bytes: EXPORT_LAYER_MIB << 20, files: 2160 };
  },
  variants: (p) => {
    const clear = () => rmSync(join(p.context, "..", "..", "export"), { recursive: true, force: true });
    return [
      // the RUN is cached: the time is the export of the image (layer blobs may be reused from the store)
      { name: "export-oci", kind: "warm", export: true, mutate: clear },
      // everything: the RUN writes the files, the layer is made, compressed and exported
      { name: "cold-run+export", kind: "cold", export: true, mutate: clear },
    ];
  },
};

export const ALL_SCENARIOS: Scenario[] = [smallApp, parallelStages, largeContext, manySteps, layerExport];
