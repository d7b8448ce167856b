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
