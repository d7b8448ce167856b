/**
 * `build()`: the orchestrator, the one module that knows every other. Dockerfile → plan → base
 * images → resolved steps → solver vertices → image in the local store → outputs.
 */
import { mkdirSync, mkdtempSync, rmdirSync, rmSync, existsSync } from "node:fs";
import { join, resolve } from "node:path";
import type { Writable } from "node:stream";
import { openCacheIndex } from "../cache/cache-index.js";
import { openStatCache } from "../cache/stat-cache.js";
import { UsageError } from "../errors/index.js";
import { createHelperExecutor } from "../exec/helper-executor.js";
import { createSnapshotter } from "../exec/snapshot/index.js";
import { openContentStore } from "../image/content-store.js";
import { normalizeImageName } from "../image/image-name.js";
import { openImageStore } from "../image/image-store.js";
import type { ImageConfig } from "../image/types.js";
import { resolveRoot, ROOT_DIRS } from "../internal/root.js";
import { loadDockerignore } from "../parser/dockerignore/index.js";
import { parseDockerfile, type Instruction } from "../parser/index.js";
import { planBuild } from "../parser/plan.js";
import { hostPlatform } from "../parser/platform.js";
import { solve } from "../solver/solver.js";
import type { Vertex } from "../solver/types.js";
import { assembleImage, dropEarlyHashes, type LayerCompression } from "./assemble.js";
import { convertStages } from "./convert.js";
import { baseVertex, baseVertexId, scratchVertex, type ResolvedBase } from "./ops/base.js";
import { copyVertex } from "./ops/copy.js";
import { runVertex } from "./ops/run.js";
import { parseOutputSpec } from "./output-spec.js";
import { loadIntoDocker, pushAll, writeOutput, type OutputContext } from "./outputs.js";
import { ProgressReporter } from "./progress-reporter.js";
import { loadRegistrySettings } from "./registry-config.js";
import { resolveBaseImage } from "./resolve-base.js";
import { buildArgsRecord, platformOrThrow, readDockerfile, secretMap, sshMap } from "./options.js";
import { removeOrphanedRuns, requireRoot, sweepStaleScratch } from "./housekeeping.js";
import type { BuildServices, StepResult } from "./services.js";
import type { SourceRef, StageSteps } from "./steps.js";
import type { BuildOptions, BuildResult, OutputSpec } from "./types.js";
import type { BuiltManifest } from "../image/manifest.js";

export async function build(options: BuildOptions): Promise<BuildResult> {
  requireRoot();
  const env = options.env ?? process.env;
  const progress = new ProgressReporter(options.onProgress);
  const contextDir = resolve(options.context);
  if (!existsSync(contextDir)) throw new UsageError(`unable to prepare context: path "${options.context}" not found`);
  const { path: dockerfilePath, text, displayName } = readDockerfile(options, contextDir);
  const df = await progress.internal(`[internal] load build definition from ${displayName}`, async () => parseDockerfile(text, { file: displayName }));
  const ignore = await progress.internal("[internal] load .dockerignore", () => loadDockerignore(contextDir, dockerfilePath ?? "Dockerfile"));
  const platform = options.platform ? platformOrThrow(options.platform) : hostPlatform();
  const plan = planBuild(df, { ...(options.target ? { target: options.target } : {}), buildArgs: buildArgsRecord(options.buildArgs), env, platform });

  const root = resolveRoot(options.root, env);
  for (const d of Object.values(ROOT_DIRS)) mkdirSync(join(root, d), { recursive: true });
  const store = openContentStore(join(root, ROOT_DIRS.content));
  const images = openImageStore(root);
  const deadBuilds = sweepStaleScratch(join(root, ROOT_DIRS.tmp));
  const tmpDir = mkdtempSync(join(root, ROOT_DIRS.tmp, `build-${process.pid}-`));
  const svc: BuildServices = {
    root,
    tmpDir,
    store,
    snapshotter: await createSnapshotter({ root }),
    executor: createHelperExecutor(),
    cacheIndex: openCacheIndex(root),
    statCache: openStatCache(root, contextDir),
    contextDir,
    isIgnored: ignore.patterns.length ? (p) => ignore.matcher.matchesOrParentMatches(p) : () => false,
    ...(ignore.patterns.length ? { ignore: ignore.matcher } : {}),
    platform,
    noCache: options.noCache === true,
    noCacheStages: new Set(options.noCacheFilter ?? []),
    secrets: secretMap(options, env),
    sshSockets: sshMap(options.ssh ?? [], env),
    ...(options.memoryBytes || options.cpus ? { resources: { ...(options.memoryBytes ? { memoryBytes: options.memoryBytes } : {}), ...(options.cpus ? { cpus: options.cpus } : {}) } } : {}),
    env,
    stats: { steps: 0, cached: 0, misses: [], log: [] },
    flattened: new Map(),
  };
  if (deadBuilds.size) await removeOrphanedRuns(root, svc.snapshotter, deadBuilds);
  try {
    // Every image the needed stages name (FROM, COPY --from, RUN --mount from=), resolved once.
    const stageNames = new Map(df.stages.map((s) => [s.name ?? String(s.index), s.index]));
    const resolveFrom = (name: string): SourceRef => {
      const lower = name.toLowerCase();
      if (stageNames.has(lower)) return { kind: "stage", index: stageNames.get(lower)! };
      if (/^\d+$/.test(name) && Number(name) < df.stages.length) return { kind: "stage", index: Number(name) };
      return { kind: "image", ref: name };
    };
    const bases = new Map<string, ResolvedBase>();
    const registries = loadRegistrySettings(root);
    const insecureRegistries = [...(options.insecureRegistries ?? []), ...registries.insecure];
    const resolveImage = (ref: string) =>
      progress.internal(`[internal] load metadata for ${displayRef(ref)}`, () =>
        resolveBaseImage(ref, { store, images, root, platform, pull: options.pull === true, insecureRegistries, mirrors: registries.mirrors, env, ...(options.signal ? { signal: options.signal } : {}) }),
      ).then((b) => void bases.set(ref, b));
    await Promise.all([...new Set(plan.stages.flatMap((s) => (s.base.kind === "image" ? [s.base.ref] : [])))].map(resolveImage));

    const steps = convertStages({
      dockerfile: df,
      stages: plan.stages.map((s) => ({ stage: s.stage, base: s.base })),
      buildArgs: new Map(Object.entries(plan.buildArgs)),
      metaArgs: new Map(Object.entries(plan.metaArgs)),
      platform,
      baseConfigs: new Map([...bases].map(([k, v]) => [k, v.config])),
      resolveFrom,
      parseTriggers,
      ...(options.network ? { defaultNetwork: options.network } : {}),
    });
    // Images named only by COPY --from or a mount.
    const extraRefs = [...steps.values()].flatMap((s) => s.steps.flatMap((st) => sourceRefs(st).filter((r) => r.kind === "image").map((r) => (r as { ref: string }).ref)));
    await Promise.all([...new Set(extraRefs)].filter((r) => !bases.has(r)).map(resolveImage));

    const { vertices, lastOf } = buildGraph(steps, bases, svc, df.stages.length === 1);
    const target = plan.target.index;
    const results = await solve(vertices, [lastOf.get(target)!], {
      ...(options.parallelism !== undefined ? { parallelism: options.parallelism } : {}),
      ...(options.signal ? { signal: options.signal } : {}),
      onProgress: (s) => progress.forward(s),
    });
    const final = results.get(lastOf.get(target)!)!;
    const finalConfig = steps.get(target)!.config;
    return await exportBuild(final, finalConfig, svc, options, progress, images);
  } finally {
    dropEarlyHashes(svc);
    svc.statCache.save();
    removeScratch(tmpDir);
    await svc.executor.close?.(); // the sandbox helper server exits and is reaped
  }
}

/**
 * The build's scratch dir is usually empty by now (a no-op rebuild wrote nothing there): rmdir
 * first, because a recursive rmSync loads Node's rimraf module (~3 ms of a 90 ms no-op).
 */
function removeScratch(dir: string): void {
  try {
    rmdirSync(dir);
  } catch {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** A FROM reference as BuildKit shows it: registry names normalised, local paths as written. */
function displayRef(ref: string): string {
  if (ref.includes("://")) return ref;
  try {
    return normalizeImageName(ref);
  } catch {
    return ref;
  }
}

/** Solver vertices for every needed stage; returns each stage's last vertex id. */
function buildGraph(steps: Map<number, StageSteps>, bases: Map<string, ResolvedBase>, svc: BuildServices, single: boolean) {
  const vertices: Vertex<StepResult>[] = [];
  const lastOf = new Map<number, string>();
  const imageVertex = (ref: string, name: string): string => {
    const b = bases.get(ref)!;
    vertices.push(baseVertex(b, name, svc));
    return baseVertexId(b, svc.platform);
  };
  const sourceId = (src: SourceRef): string | undefined =>
    src.kind === "stage" ? lastOf.get(src.index) : src.kind === "image" ? imageVertex(src.ref, `[internal] FROM ${src.ref}`) : undefined;
  for (const stage of steps.values()) {
    const total = stage.instructionCount;
    let parent: string;
    if (stage.base.kind === "stage") parent = lastOf.get(stage.base.index)!;
    else if (stage.base.kind === "image") parent = imageVertex(stage.base.ref, `[${single ? "" : stage.displayName + " "}${"1".padStart(String(total).length)}/${total}] FROM ${bases.get(stage.base.ref)!.name}`);
    else {
      const v = scratchVertex(svc);
      vertices.push(v);
      parent = v.id;
    }
    for (const step of stage.steps) {
      if (step.kind === "run") {
        const mountIds = step.mounts.flatMap((m) => (m.from && m.from.kind !== "context" ? [sourceId(m.from)!] : []));
        const v = runVertex(step, parent, mountIds, svc);
        vertices.push(v);
        parent = v.id;
      } else {
        const v = copyVertex(step, parent, sourceId(step.from), svc);
        vertices.push(v);
        parent = v.id;
      }
    }
    lastOf.set(stage.index, parent);
  }
  return { vertices, lastOf };
}

function sourceRefs(step: StageSteps["steps"][number]): SourceRef[] {
  return step.kind === "copy" ? [step.from] : step.mounts.flatMap((m) => (m.from ? [m.from] : []));
}

async function exportBuild(final: StepResult, config: ImageConfig, svc: BuildServices, options: BuildOptions, progress: ProgressReporter, images: ReturnType<typeof openImageStore>): Promise<BuildResult> {
  const env = svc.env;
  const sde = options.sourceDateEpoch ?? (env.SOURCE_DATE_EPOCH ? Number(env.SOURCE_DATE_EPOCH) : undefined);
  if (sde !== undefined && (!Number.isInteger(sde) || sde < 0)) throw new UsageError(`SOURCE_DATE_EPOCH must be a whole number of seconds, got "${env.SOURCE_DATE_EPOCH}"`);
  // The newest step of the result, so a rebuild from cache gives the same image digest.
  const createdAt = new Date(final.createdAt || Date.now()).toISOString().replace(/\.\d{3}Z$/, "Z");
  const names = (options.tags ?? []).map((t) => normalizeImageName(t));
  const built = new Map<string, Promise<BuiltManifest>>();
  const imageWith = (compression: LayerCompression, mediaTypes: "oci" | "docker") => {
    const k = `${compression}/${mediaTypes}`;
    if (!built.has(k)) {
      built.set(k, assembleImage(svc, final, config, {
        compression,
        mediaTypes,
        createdAt,
        ...(sde !== undefined ? { sourceDateEpoch: sde } : {}),
        ...(options.labels ? { labels: options.labels } : {}),
        ...(options.annotations ? { annotations: options.annotations } : {}),
      }));
    }
    return built.get(k)!;
  };
  // The local store keeps uncompressed layers: compression is paid only by exports and pushes.
  const local = await progress.internal("exporting to image", async (ctx) => {
    const img = await imageWith("none", "oci");
    ctx.status(`writing image ${img.configDescriptor.digest}`, 0, undefined, true);
    for (const n of names) {
      images.put(n, img.descriptor);
      ctx.status(`naming to ${n}`, 0, undefined, true);
    }
    return img;
  });
  // BuildKit reports the manifest it exported or pushed; without one, the local store's.
  let exported: BuiltManifest | undefined;
  const outputs: OutputSpec[] = (options.outputs ?? []).map((o) => (typeof o === "string" ? parseOutputSpec(o) : o));
  const octx: OutputContext = {
    svc,
    result: final,
    exportImage: async (c, m) => {
      const img = await imageWith(c === "uncompressed" ? "none" : c, m);
      exported ??= img;
      return img;
    },
    names,
    stdout: (options.stdout ?? process.stdout) as Writable,
    insecureRegistries: [...(options.insecureRegistries ?? []), ...loadRegistrySettings(svc.root).insecure],
    ...(options.signal ? { signal: options.signal } : {}),
    ...(sde !== undefined ? { sourceDateEpoch: sde } : {}),
  };
  for (const o of outputs) await progress.internal(`exporting to ${o.type}${"dest" in o ? ` ${o.dest}` : ""}`, () => writeOutput(o, octx));
  if (options.push) await progress.internal("pushing layers", () => pushAll(names, octx));
  if (options.load) await progress.internal("loading into docker", () => loadIntoDocker(octx));
  const reported = exported ?? local;
  const metadata: Record<string, unknown> = {
    "containerimage.config.digest": reported.configDescriptor.digest,
    "containerimage.descriptor": { ...reported.descriptor, annotations: { "config.digest": reported.configDescriptor.digest, "org.opencontainers.image.created": reported.config.created } },
    "containerimage.digest": reported.descriptor.digest,
  };
  if (names.length) metadata["image.name"] = names.join(",");
  return {
    digest: reported.descriptor.digest,
    configDigest: reported.configDescriptor.digest,
    descriptor: reported.descriptor,
    platform: svc.platform,
    names,
    metadata,
    warnings: [],
    stats: svc.stats,
  };
}

/** ONBUILD trigger texts parsed as instructions (each is one Dockerfile line). */
function parseTriggers(expressions: string[]): Instruction[] {
  const df = parseDockerfile(["FROM scratch", ...expressions].join("\n") + "\n", { file: "ONBUILD" });
  return df.stages[0]!.instructions;
}

