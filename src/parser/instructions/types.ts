/**
 * The typed Dockerfile instructions: a union tagged on `kind`. Every instruction keeps its source
 * `range`, the joined source line (`original`) and the raw flag words; values are as written
 * (never variable-expanded).
 */
import type { Heredoc, Range } from "../types.js";
import type { MountSpec } from "./mount.js";

interface InstructionBase {
  range: Range;
  /** The joined logical line, as BuildKit's `Original`. */
  original: string;
  /** Raw `--flag[=value]` words as written (quotes removed). */
  rawFlags: string[];
}

export interface KeyValue {
  key: string;
  value: string;
}

/** A command line: exec form (JSON) or shell form (one string run by SHELL). */
export interface CommandLine {
  args: string[];
  /** true for the shell form: BuildKit prepends the stage's SHELL. */
  prependShell: boolean;
}

export interface FromInstruction extends InstructionBase {
  kind: "from";
  /** The base image word as written (may contain `$VAR` of global ARGs). */
  image: string;
  /** Stage name lower-cased, when `AS name` is given. */
  stageName?: string;
  platform?: string;
}

export interface RunInstruction extends InstructionBase, CommandLine {
  kind: "run";
  mounts: MountSpec[];
  network?: "default" | "none" | "host";
  security?: "sandbox" | "insecure";
  /** Heredoc bodies of the line (raw; `chomp` tells whether tabs must be stripped). */
  heredocs: Heredoc[];
}

export interface CmdInstruction extends InstructionBase, CommandLine {
  kind: "cmd";
}

export interface EntrypointInstruction extends InstructionBase, CommandLine {
  kind: "entrypoint";
}

export interface ShellInstruction extends InstructionBase {
  kind: "shell";
  shell: string[];
}

/** HEALTHCHECK; durations in nanoseconds as in the OCI/Docker image config (0 = unset). */
export interface HealthcheckInstruction extends InstructionBase {
  kind: "healthcheck";
  /** `["NONE"]`, `["CMD", ...args]` (exec form) or `["CMD-SHELL", script]`. */
  test: string[];
  interval: number;
  timeout: number;
  startPeriod: number;
  startInterval: number;
  retries: number;
}

export interface EnvInstruction extends InstructionBase {
  kind: "env";
  env: KeyValue[];
  /** true for the legacy `ENV key value` form. */
  legacy: boolean;
}

export interface LabelInstruction extends InstructionBase {
  kind: "label";
  labels: KeyValue[];
  legacy: boolean;
}

export interface ArgDeclaration {
  key: string;
  /** The default value as written; absent for `ARG NAME`. */
  value?: string;
}

export interface ArgInstruction extends InstructionBase {
  kind: "arg";
  args: ArgDeclaration[];
}

export interface MaintainerInstruction extends InstructionBase {
  kind: "maintainer";
  maintainer: string;
}

export interface ExposeInstruction extends InstructionBase {
  kind: "expose";
  ports: string[];
}

/** An inline file of COPY/ADD made from a heredoc (content already chomped for `<<-`). */
export interface SourceContent {
  path: string;
  data: string;
  expand: boolean;
}

interface CopyLike extends InstructionBase {
  /** Source paths (heredoc sources are in `sourceContents`). */
  sources: string[];
  sourceContents: SourceContent[];
  dest: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  exclude: string[];
  heredocs: Heredoc[];
  /** true when the arguments were written as a JSON array. */
  json: boolean;
}

export interface CopyInstruction extends CopyLike {
  kind: "copy";
  from?: string;
  parents: boolean;
}

export interface AddInstruction extends CopyLike {
  kind: "add";
  keepGitDir?: boolean;
  checksum?: string;
  unpack?: boolean;
}

export interface VolumeInstruction extends InstructionBase {
  kind: "volume";
  volumes: string[];
}

export interface UserInstruction extends InstructionBase {
  kind: "user";
  user: string;
}

export interface WorkdirInstruction extends InstructionBase {
  kind: "workdir";
  path: string;
}

export interface StopsignalInstruction extends InstructionBase {
  kind: "stopsignal";
  signal: string;
}

export interface OnbuildInstruction extends InstructionBase {
  kind: "onbuild";
  /** The trigger text stored in the image config (heredoc bodies appended as BuildKit does). */
  expression: string;
  trigger: Instruction;
}

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | ShellInstruction
  | HealthcheckInstruction
  | EnvInstruction
  | LabelInstruction
  | ArgInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | CopyInstruction
  | AddInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | StopsignalInstruction
  | OnbuildInstruction;

export type InstructionKind = Instruction["kind"];

export const INSTRUCTION_NAMES = [
  "ADD", "ARG", "CMD", "COPY", "ENTRYPOINT", "ENV", "EXPOSE", "FROM", "HEALTHCHECK", "LABEL",
  "MAINTAINER", "ONBUILD", "RUN", "SHELL", "STOPSIGNAL", "USER", "VOLUME", "WORKDIR",
] as const;
