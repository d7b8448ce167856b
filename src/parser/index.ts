/** Public surface of the Dockerfile parser and build planner. */
export { parseAst, nodeFromLine, type ParseOptions } from "./ast.js";
export { dumpAst, dumpNode, goQuote } from "./dump.js";
export { parseDockerfile, type Dockerfile, type Stage } from "./dockerfile.js";
export { chompHeredocContent, parseHeredocWord } from "./heredoc.js";
export { parseMountSpec, type MountSpec, type MountType, type CacheSharing } from "./instructions/mount.js";
export type * from "./instructions/types.js";
export type * from "./types.js";
export { planBuild, planToJson, type BuildPlan, type PlannedStage, type PlanEdge, type PlanOptions, type StageBase } from "./plan.js";
export { StageScope, EXPANDING_KINDS, type StageScopeOptions } from "./scope.js";
export { hostPlatform, formatPlatform, parsePlatform, platformArgs, PROXY_ARGS, type Platform } from "./platform.js";
