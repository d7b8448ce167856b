/**
 * The resolved steps of a build: what each layer-producing instruction will do, with every
 * variable expanded and every input named. Produced by convert.ts, consumed by the vertex
 * builders in ops/. Plain data.
 */
import type { SourceLocation } from "../errors/index.js";
import type { MountSpec } from "../parser/index.js";
import type { ImageConfig } from "../image/types.js";
import type { NetworkMode } from "../exec/types.js";

/** Where files come from: the build context, another stage's result, or an image. */
export type SourceRef = { kind: "context" } | { kind: "stage"; index: number } | { kind: "image"; ref: string };

export interface StepCommon {
  /** Progress name, `[build 2/4] RUN make`. */
  name: string;
  location: SourceLocation;
  /** Identifies "the same step" across builds, to explain cache misses. */
  stepId: string;
  /** History entry text for the image config. */
  createdBy: string;
  /** Stage name or index, for --no-cache-filter. */
  stageName: string;
}

export interface RunMountPlan {
  spec: MountSpec;
  /** For bind/cache mounts with `from=`: the source. */
  from?: SourceRef;
}

export interface RunStep extends StepCommon {
  kind: "run";
  args: string[];
  env: string[];
  user: string;
  workdir: string;
  network: NetworkMode;
  security: "sandbox" | "insecure";
  mounts: RunMountPlan[];
}

export interface CopyStep extends StepCommon {
  kind: "copy";
  isAdd: boolean;
  from: SourceRef;
  /** Source paths (after expansion); URLs for ADD. */
  sources: string[];
  /** Inline files from heredocs: path (relative name) and content. */
  contents: { path: string; data: string }[];
  /** Destination as written after expansion (may be relative to workdir, may end in "/"). */
  dest: string;
  workdir: string;
  /** The USER in effect, for BuildKit's default ownership rules. */
  user: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  parents: boolean;
  exclude: string[];
  checksum?: string;
  keepGitDir?: boolean;
  unpack?: boolean;
}

export type Step = RunStep | CopyStep;

export type StageBase = { kind: "stage"; index: number } | { kind: "image"; ref: string } | { kind: "scratch" };

export interface StageSteps {
  index: number;
  /** The name shown in progress: `AS name`, else `stage-N`. */
  displayName: string;
  base: StageBase;
  steps: Step[];
  /** The finished image config (base config + this stage's changes + history). */
  config: ImageConfig;
  /** Location of the FROM line. */
  location: SourceLocation;
  /** Instructions in the stage, FROM included: the M of `[stage N/M]`. */
  instructionCount: number;
}
