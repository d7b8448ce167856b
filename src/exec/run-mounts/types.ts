import type { Mount } from "../types.js";

/** One parsed `RUN --mount=…` flag (see BuildKit's commands_runmount.go for the syntax). */
export interface RunMountSpec {
  type: "bind" | "cache" | "tmpfs" | "secret" | "ssh";
  /** Path inside the container; optional only for secret and ssh, which have defaults. */
  target?: string;
  /** Path inside `fromDir` (bind, cache seed); default its root. */
  source?: string;
  /** The stage, context or image named by `from=`, for messages only. */
  from?: string;
  /** `from=` resolved by the caller into a directory on the host. */
  fromDir?: string;
  readonly?: boolean;
  rw?: boolean;
  /** cache: default the target path; secret: default basename(target); ssh: default "default". */
  id?: string;
  sharing?: "shared" | "private" | "locked";
  mode?: number;
  uid?: number;
  gid?: number;
  /** tmpfs size in bytes. */
  size?: number;
  /** secret: expose the value as this environment variable. */
  env?: string;
  required?: boolean;
}

/** `--secret id=…,src=FILE|env=VAR`: where each secret's value comes from on the host. */
export type SecretStore = Map<string, { file?: string; env?: string }>;

export interface RunMountsOptions {
  /** The tsbuild root: cache mounts, locks and scratch space live under it. */
  root: string;
  /** The build context directory: source of bind mounts without `fromDir`. */
  contextDir?: string;
  secrets?: SecretStore;
  /** ssh ids → agent socket paths; "default" falls back to `env.SSH_AUTH_SOCK`. */
  sshAgents?: Map<string, string>;
  /** The caller's environment, for secret `env=` sources and SSH_AUTH_SOCK; default process.env. */
  env?: NodeJS.ProcessEnv;
  /** Read-write binds use an overlay with a throwaway upper dir (default), else a copy. */
  overlay?: boolean;
  signal?: AbortSignal;
}

/**
 * The mounts of one RUN and what they hold (cache locks, secret files, scratch dirs). Call
 * `release()` (or `await using`) after the RUN, whether it succeeded or not.
 */
export interface RunMounts extends AsyncDisposable {
  mounts: Mount[];
  /** "KEY=value" entries to add to the process environment (secret env=, SSH_AUTH_SOCK). */
  env: string[];
  /** Targets of the mounts, for mount-stub cleanup. */
  targets: string[];
  release(): Promise<void>;
}
