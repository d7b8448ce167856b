/**
 * End-to-end build helpers: one fixture root per test file (with `busybox:latest` in its image
 * store), temporary contexts from a `{ path: content }` map, and `buildAndUnpack()`, which builds
 * to `type=oci`, then unpacks the image with the real `umoci` and reads its config from the layout.
 *
 *   const fx = await makeFixtureRoot();
 *   after(() => fx.cleanup());
 *   const out = await fx.buildAndUnpack({ context: fx.context({ Dockerfile: "FROM busybox\n" }) });
 *   // out.rootfs, out.config.config.Env, out.layerEntries(0), out.vertices
 */
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { makeBusyboxImage } from "../../fixtures/make-base-images.js";
import { build } from "../../src/index.js";
import type { BuildOptions, BuildResult, VertexUpdate } from "../../src/index.js";

/** A file's text, a file with a mode, a symlink, or an empty directory. */
export type ContextEntry = string | { content: string; mode?: number } | { symlink: string } | { dir: true };

export interface ImageConfigJson {
  created?: string;
  architecture: string;
  os: string;
  config: {
    User?: string;
    Env?: string[];
    Entrypoint?: string[];
    Cmd?: string[];
    WorkingDir?: string;
    ExposedPorts?: Record<string, object>;
    Volumes?: Record<string, object>;
    Labels?: Record<string, string>;
    StopSignal?: string;
    Healthcheck?: { Test?: string[]; Interval?: number; Timeout?: number; Retries?: number; StartPeriod?: number };
    OnBuild?: string[];
    Shell?: string[];
  };
  rootfs: { type: string; diff_ids: string[] };
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
}

export interface Unpacked {
  result: BuildResult;
  /** The unpacked root filesystem (umoci's bundle/rootfs). */
  rootfs: string;
  /** The OCI image config as exported. */
  config: ImageConfigJson;
  /** The OCI layout directory the tar was extracted to. */
  layout: string;
  /** Blob paths of the layers, bottom first. */
  layers: string[];
  /** The names listed by `tar -tf` for layer `i` (negative counts from the top). */
  layerEntries(i: number): string[];
  /** The last state of every vertex, by name. */
  vertices: Map<string, VertexUpdate>;
}

export interface FixtureRoot {
  /** The tsbuild root holding busybox:latest. */
  root: string;
  /** A scratch directory removed by cleanup(). */
  dir: string;
  /** A new context directory holding `files`. */
  context(files: Record<string, ContextEntry>): string;
  /** build() against this root (unless opts.root says otherwise), recording vertices. */
  build(opts: BuildOptions): Promise<{ result: BuildResult; vertices: Map<string, VertexUpdate> }>;
  buildAndUnpack(opts: BuildOptions): Promise<Unpacked>;
  cleanup(): void;
}

export function umociUnavailable(): string | undefined {
  return spawnSync("umoci", ["--version"]).status === 0 ? undefined : "umoci not installed (run scripts/setup-test-env.sh)";
}

let counter = 0;

export async function makeFixtureRoot(): Promise<FixtureRoot> {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-e2e-"));
  const root = join(dir, "root");
  await makeBusyboxImage({ outDir: join(dir, "fixtures"), root });
  const fresh = (what: string) => join(dir, `${what}-${++counter}`);
  const fx: FixtureRoot = {
    root,
    dir,
    context: (files) => writeContext(fresh("ctx"), files),
    build: (opts) => recordBuild({ root, ...opts }),
    async buildAndUnpack(opts) {
      const out = fresh("out");
      mkdirSync(out);
      const tarPath = join(out, "image.tar");
      const { result, vertices } = await recordBuild({ root, ...opts, outputs: [...(opts.outputs ?? []), `type=oci,dest=${tarPath}`] });
      return { ...unpackOciTar(tarPath, out), result, vertices };
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
  return fx;
}

export function writeContext(dir: string, files: Record<string, ContextEntry>): string {
  mkdirSync(dir, { recursive: true });
  for (const [rel, entry] of Object.entries(files)) {
    const p = join(dir, rel);
    mkdirSync(dirname(p), { recursive: true });
    if (typeof entry === "string") writeFileSync(p, entry);
    else if ("symlink" in entry) symlinkSync(entry.symlink, p);
    else if ("dir" in entry) mkdirSync(p, { recursive: true });
    else {
      writeFileSync(p, entry.content);
      if (entry.mode !== undefined) chmodSync(p, entry.mode);
    }
  }
  return dir;
}

export async function recordBuild(opts: BuildOptions): Promise<{ result: BuildResult; vertices: Map<string, VertexUpdate> }> {
  const vertices = new Map<string, VertexUpdate>();
  const result = await build({
    ...opts,
    onProgress: (s) => {
      for (const v of s.vertexes) vertices.set(v.name, { ...vertices.get(v.name), ...v });
      opts.onProgress?.(s);
    },
  });
  return { result, vertices };
}

/** Extracts an OCI tar, unpacks its one image with umoci and reads config and layers. */
export function unpackOciTar(tarPath: string, out: string): Omit<Unpacked, "result" | "vertices"> {
  const layout = join(out, "layout");
  mkdirSync(layout);
  execFileSync("tar", ["-xf", tarPath, "-C", layout]);
  const index = JSON.parse(readFileSync(join(layout, "index.json"), "utf8")) as { manifests: { digest: string; annotations?: Record<string, string> }[] };
  const desc = index.manifests[0]!;
  const ref = desc.annotations?.["org.opencontainers.image.ref.name"] ?? "latest";
  const blob = (digest: string) => join(layout, "blobs", ...digest.split(":"));
  const manifest = JSON.parse(readFileSync(blob(desc.digest), "utf8")) as { config: { digest: string }; layers: { digest: string }[] };
  const config = JSON.parse(readFileSync(blob(manifest.config.digest), "utf8")) as ImageConfigJson;
  const bundle = join(out, "bundle");
  execFileSync("umoci", ["unpack", "--image", `${layout}:${ref}`, bundle], { stdio: "pipe" });
  const layers = manifest.layers.map((l) => blob(l.digest));
  return {
    rootfs: join(bundle, "rootfs"),
    config,
    layout,
    layers,
    layerEntries: (i) => {
      const p = layers.at(i);
      if (!p) throw new Error(`no layer ${i} (image has ${layers.length})`);
      return execFileSync("tar", ["-tf", p], { encoding: "utf8", maxBuffer: 64 << 20 }).split("\n").filter(Boolean);
    },
  };
}

/** Steps (RUN/COPY/ADD vertices, `[stage n/m] ...`) by whether they came from cache. */
export function stepVertices(vertices: Map<string, VertexUpdate>): VertexUpdate[] {
  return [...vertices.values()].filter((v) => /^\[[^\]]*\d+\/\d+\] (RUN|COPY|ADD) /.test(v.name));
}
