/**
 * Contracts of the sandbox: mounts are data, the native helper performs them. These types are the
 * meeting point of the snapshotter (which produces root mounts), the RUN-mount code (cache, secret,
 * tmpfs, bind) and the executor (which hands everything to native/helper.c).
 */

/**
 * One mount, containerd-style. `target` is a path inside the container ("/" for the root mount).
 * For overlay: source "overlay", options like ["lowerdir=a:b", "upperdir=u", "workdir=w"];
 * lower/upper/work paths may be relative to `cwd` (keeps the option string under the kernel's
 * page-size limit when there are many layers).
 */
export interface Mount {
  type: "overlay" | "bind" | "tmpfs";
  source: string;
  target: string;
  options: string[];
  /** Directory the helper chdirs to before mounting, so relative overlay paths resolve. */
  cwd?: string;
}

export type NetworkMode = "default" | "none" | "host";

export interface ProcessSpec {
  /** argv; args[0] is looked up in PATH from `env` inside the sandbox when it has no slash. */
  args: string[];
  /** "KEY=value" entries, in order. */
  env: string[];
  /** Working directory inside the sandbox; created if missing. */
  cwd: string;
  /** Docker USER syntax: "name", "uid", "name:group", "uid:gid"; resolved inside the sandbox. */
  user: string;
  hostname: string;
  network: NetworkMode;
}

export interface RunRequest {
  /** The root filesystem: exactly one mount with target "/". */
  root: Mount;
  /** Further mounts, in order, targets inside the root (RUN --mount, secrets, cache mounts). */
  mounts: Mount[];
  spec: ProcessSpec;
  /** Extra /etc/hosts lines; the helper always writes localhost and the hostname. */
  extraHosts?: string[];
  /** Optional cgroup v2 limits for this RUN. */
  resources?: { memoryBytes?: number; cpus?: number };
}

export interface RunIo {
  stdout?: (chunk: Buffer) => void;
  stderr?: (chunk: Buffer) => void;
  /** Bytes given to the process's stdin; by default stdin is /dev/null. */
  stdin?: Uint8Array;
}

/** How the process ended: exactly one of exitCode or signal. */
export interface ExitResult {
  exitCode: number | null;
  signal: string | null;
  /** Set when the memory limit's OOM killer killed a process of the run (the command or one it started). */
  oomKilled?: true;
}

export interface Executor {
  /** Runs one process in a fresh sandbox; rejects with CancelledError when `signal` fires. */
  run(req: RunRequest, io: RunIo, signal?: AbortSignal): Promise<ExitResult>;
  /**
   * Lets helper processes kept between runs exit, waiting for them when no run is in flight
   * (so they are reaped and their CPU counts as the caller's children's). Later runs start
   * new ones.
   */
  close?(): Promise<void>;
}
