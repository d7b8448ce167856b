/**
 * The public library API of tsbuild. The CLI uses only what is exported here.
 */
export { TsbuildError, LocatedError, AggregateLocatedError, UsageError, CancelledError } from "./errors/index.js";
export type { SourceLocation } from "./errors/index.js";
export { parseDockerfile, planBuild, planToJson, dumpAst, parseAst, StageScope } from "./parser/index.js";
export type { Dockerfile, Stage, Instruction, BuildPlan, PlannedStage, PlanOptions, MountSpec, Heredoc, Platform } from "./parser/index.js";
export { build } from "./build/build.js";
export type { BuildOptions, BuildResult, BuildStats, OutputSpec, SecretSpec } from "./build/types.js";
export { StepError } from "./errors/index.js";
export type { SolveStatus, VertexUpdate, StatusUpdate, LogUpdate, WarningUpdate, ProgressListener } from "./progress/types.js";
export { solveStatusToJson } from "./progress/types.js";
export { PlainRenderer } from "./progress/plain.js";
export { SolveError } from "./solver/solver.js";
export { parseOutputSpec, parseSecretSpec } from "./build/output-spec.js";
export { TtyRenderer, type TtyOptions, type TtyOutput } from "./progress/tty.js";
export { RawJsonRenderer } from "./progress/rawjson.js";
export { LogArchive } from "./progress/log-archive.js";
export { createRenderer, resolveMode, type ProgressRenderer, type RendererMode, type RendererOptions } from "./progress/select.js";

// What `tsbuild images|load|save|tag|rmi|push|du|prune|plan` do, for tools that manage a root too.
export { resolveRoot } from "./internal/root.js";
export { openImageStore, readImage, loadImageArchive, saveImage, normalizeImageName, familiarName, familiarRepository, parseImageName, isIndexMediaType } from "./image/index.js";
export type { ImageStore, ImageRecord, LoadedImage, Descriptor, ImageConfig, Manifest } from "./image/index.js";
export { parseReference, pushImage, pullImage } from "./registry/index.js";
export type { TransferEvent, PulledImage, PushResult } from "./registry/index.js";
export { computeUsage, pruneCache, formatSize, parseSize, parseDuration, humanDuration } from "./cache/index.js";
export type { UsageEntry, PruneOptions } from "./cache/index.js";
export { createSnapshotter } from "./exec/snapshot/index.js";
export { formatPlatform, parsePlatform } from "./parser/platform.js";
export { suggest } from "./parser/diagnostics.js";
