/**
 * The three builders the bench compares, behind one small interface: tsbuild (this repo, run as a
 * whole process), BuildKit (dockerd 20.10's embedded BuildKit through `DOCKER_BUILDKIT=1 docker
 * build`, a private dockerd the bench starts) and buildah (`buildah bud --layers`, private storage).
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { MOVED_EXTRA_CA_VAR } from "../../src/internal/https-fetch.js";
import { procCpuS, sh, timed, type RunResult } from "./measure.js";
import { emptyTrash, moveAside } from "./trash.js";

export type BuilderName = "tsbuild" | "buildkit" | "buildah";

export interface BuildRequest {
  context: string;
  dockerfile: string;
  tag: string;
  noCache?: boolean;
  /** Export the image as an OCI layout tar here. */
  ociDest?: string;
  /** tsbuild only: `--parallelism N` (the others have no per-build limit). */
  parallelism?: number;
}

export interface Builder {
  readonly name: BuilderName;
  /** Undefined when usable, else why not. */
  unavailable(): Promise<string | undefined>;
  setup(work: string): Promise<void>;
  /**
   * Makes a base image (docker-archive tar holding `name`) available, also after later resets,
   * unpacked the way the builder keeps it (dockerd and buildah unpack at load time).
   */
  loadBase(archive: string, name: string): Promise<void>;
  /** Back to the cold state: no cache, no built images, only the base images. */
  reset(): Promise<void>;
  build(req: BuildRequest, opts?: { cpuProfDir?: string }): Promise<RunResult>;
  teardown(): Promise<void>;
}

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

export class TsbuildBuilder implements Builder {
  readonly name = "tsbuild" as const;
  private template = "";
  private root = "";
  private entry = "";
  private readonly bases: string[] = [];

  async unavailable(): Promise<string | undefined> {
    return existsSync(join(REPO, "native", "build", "tsbuild-helper")) ? undefined : "native helper not built (npm install)";
  }

  /** Bundles the CLI from the working tree with the project's own script; the real bin is timed. */
  async setup(work: string): Promise<void> {
    await sh([process.execPath, join(REPO, "scripts", "bundle-cli.mjs")]);
    this.entry = join(REPO, "bin", "tsbuild.cjs");
    this.mode = "the real CLI (`bin/tsbuild.cjs build …` run as a program, as `tsbuild` on the PATH is; bundled by scripts/bundle-cli.mjs)";
    this.template = join(work, "tsbuild-template");
    this.root = join(work, "tsbuild-root");
    rmSync(this.template, { recursive: true, force: true });
    mkdirSync(this.template, { recursive: true });
  }

  /** What process is timed. */
  mode = "";

  private env(root: string): NodeJS.ProcessEnv {
    return {
      ...process.env,
      TSBUILD_ROOT: root,
      // the compiled copy sits deeper than the 6 levels src/ walks up to find native/build
      TSBUILD_HELPER_PATH: join(REPO, "native", "build", "tsbuild-helper"),
      TSBUILD_FSUTIL_PATH: join(REPO, "native", "build", "tsbuild-fsutil"),
    };
  }

  /**
   * `tsbuild load` keeps only the blobs and unpacks on first use; dockerd and buildah unpack at
   * load time. So that a cold run costs the same for all three, the template root also gets a
   * throw-away build (`FROM name` + `RUN true`) that unpacks the base's layers into its snapshots.
   */
  async loadBase(archive: string, name: string): Promise<void> {
    this.bases.push(archive);
    const env = this.env(this.template);
    await sh(["node", this.entry, "load", "-q", "-i", archive], { env });
    const dir = join(this.template, "..", "tsbuild-unpack-ctx");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "Dockerfile"), `FROM ${name}\nRUN true\n`);
    await sh(["node", this.entry, "build", "--progress", "quiet", dir], { env });
  }

  async reset(): Promise<void> {
    moveAside(this.root); // not deleted now: see trash.ts
    await sh(["cp", "-a", this.template, this.root]); // device nodes and xattrs too (unpacked bases)
  }

  /**
   * Runs the bin as a program (its launcher moves NODE_EXTRA_CA_CERTS aside before Node starts).
   * With `cpuProfDir`: under `node --cpu-prof`, with the environment the launcher would give,
   * `--progress plain`, child CPU sampled (the profiling run).
   */
  build(req: BuildRequest, opts: { cpuProfDir?: string } = {}): Promise<RunResult> {
    const args = ["build", "--progress", opts.cpuProfDir ? "plain" : "quiet", "-f", req.dockerfile, "-t", req.tag];
    if (req.noCache) args.push("--no-cache");
    if (req.parallelism) args.push("--parallelism", String(req.parallelism));
    if (req.ociDest) args.push("-o", `type=oci,dest=${req.ociDest}`);
    if (!opts.cpuProfDir) return timed([this.entry, ...args, req.context], { env: this.env(this.root) });
    const node = ["node", "--cpu-prof", "--cpu-prof-dir", opts.cpuProfDir, this.entry];
    return timed([...node, ...args, req.context], { env: launcherEnv(this.env(this.root)), sampleChildren: true });
  }

  async teardown(): Promise<void> {}
}

const DOCKER = "/usr/bin/docker"; // Debian's docker.io 20.10 client (the Docker 28 client in /usr/local/bin needs buildx)
const DOCKER_SOCK = "/run/tsbuild-bench-docker.sock";
const DATA_ROOT = "/var/lib/tsbuild-bench-docker";
const DATA_TRASH = "/var/lib/tsbuild-bench-docker-trash"; // beside it: a rename, not a copy

export class BuildkitBuilder implements Builder {
  readonly name = "buildkit" as const;
  private readonly env = { ...process.env, DOCKER_HOST: `unix://${DOCKER_SOCK}`, DOCKER_BUILDKIT: "1" };

  async unavailable(): Promise<string | undefined> {
    if (!existsSync(DOCKER) || !existsSync("/usr/sbin/dockerd")) return "docker.io not installed (apt-get install docker.io)";
    return undefined;
  }

  private async ping(): Promise<boolean> {
    return (await sh([DOCKER, "version", "--format", "{{.Server.Version}}"], { env: this.env, allowFail: true })).code === 0;
  }

  async setup(work: string): Promise<void> {
    this.log = join(work, "docker", "dockerd.log");
    mkdirSync(join(work, "docker"), { recursive: true });
    await this.stopDaemon(); // a bench dockerd from an earlier invocation: start a fresh one
    await this.startDaemon();
  }

  private log = "";
  private readonly archives: string[] = [];

  private async startDaemon(): Promise<void> {
    spawn("sh", ["-c", `exec /usr/sbin/dockerd --data-root ${DATA_ROOT} --exec-root /run/tsbuild-bench-docker --host unix://${DOCKER_SOCK} --pidfile /run/tsbuild-bench-docker.pid >>${this.log} 2>&1`], { stdio: "ignore", detached: true });
    for (let i = 0; i < 60 && !(await this.ping()); i++) await new Promise((r) => setTimeout(r, 500));
    if (!(await this.ping())) throw new Error(`dockerd did not start; see ${this.log}`);
  }

  private async stopDaemon(): Promise<void> {
    for (const pid of this.daemonPids()) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // already gone
      }
    }
    for (let i = 0; i < 80 && (await this.ping()); i++) await new Promise((r) => setTimeout(r, 250));
    for (let i = 0; i < 40 && this.daemonPids().some(alive); i++) await new Promise((r) => setTimeout(r, 250));
  }

  private daemonPids(): number[] {
    const pids: number[] = [];
    try {
      pids.push(Number(readFileSync("/run/tsbuild-bench-docker.pid", "utf8").trim()));
    } catch {
      // no pid file
    }
    return pids.filter((p) => p > 0);
  }

  async loadBase(archive: string, _name: string): Promise<void> {
    this.archives.push(archive);
    await sh([DOCKER, "load", "-q", "-i", archive], { env: this.env });
  }

  /** A new data root (the old one moved aside, see trash.ts) with only the base images loaded. */
  async reset(): Promise<void> {
    await this.stopDaemon();
    moveAside(DATA_ROOT, DATA_TRASH);
    await this.startDaemon();
    for (const a of this.archives) await sh([DOCKER, "load", "-q", "-i", a], { env: this.env });
    await this.wakeBuilder();
  }

  /**
   * The first build after dockerd starts also brings up its BuildKit session; a user's dockerd is
   * long running, so a tiny build (a LABEL on the first base, nothing to unpack or run) goes
   * first and its few records are pruned.
   */
  private async wakeBuilder(): Promise<void> {
    const dir = join(dirname(this.log), "wake");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "Dockerfile"), "FROM busybox:latest\nLABEL tsbuild.bench.wake=1\n");
    await sh([DOCKER, "build", "-q", "-t", "bench-wake:latest", dir], { env: this.env });
    await sh([DOCKER, "rmi", "-f", "bench-wake:latest"], { env: this.env, allowFail: true });
    await sh([DOCKER, "builder", "prune", "-af"], { env: this.env });
  }

  async build(req: BuildRequest): Promise<RunResult> {
    const args = [DOCKER, "build", "-q", "-f", req.dockerfile, "-t", req.tag];
    if (req.noCache) args.push("--no-cache");
    const pids = this.daemonPids();
    const cpu0 = pids.reduce((a, p) => a + procCpuS(p), 0);
    // dockerd 20.10's embedded BuildKit has no oci exporter ("exporter oci is not supported"):
    // its image export is the build into the image store plus `docker save` (a docker-archive)
    const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    const cmd = req.ociDest
      ? ["sh", "-c", `${[...args, req.context].map(q).join(" ")} >/dev/null && ${[DOCKER, "save", "-o", req.ociDest, req.tag].map(q).join(" ")}`]
      : [...args, req.context];
    const r = await timed(cmd, { env: this.env });
    const cpu1 = pids.reduce((a, p) => a + procCpuS(p), 0);
    return { ...r, daemonCpuS: cpu1 - cpu0 };
  }

  async teardown(): Promise<void> {
    await this.stopDaemon();
    emptyTrash(DATA_TRASH);
  }
}

/** The environment bin/tsbuild.cjs's launcher gives Node: NODE_EXTRA_CA_CERTS moved aside. */
export function launcherEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { NODE_EXTRA_CA_CERTS: extra, ...rest } = env;
  return extra ? { ...rest, [MOVED_EXTRA_CA_VAR]: extra } : rest;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

export class BuildahBuilder implements Builder {
  readonly name = "buildah" as const;
  private storage: string[] = [];
  private readonly bases: string[] = [];

  async unavailable(): Promise<string | undefined> {
    return (await sh(["buildah", "--version"], { allowFail: true })).code === 0 ? undefined : "buildah not installed (apt-get install buildah)";
  }

  private root = "";

  async setup(work: string): Promise<void> {
    this.root = join(work, "buildah", "root");
    this.storage = ["--root", this.root, "--runroot", join(work, "buildah", "run"), "--storage-driver", "overlay"];
  }

  async loadBase(archive: string, _name: string): Promise<void> {
    this.bases.push(archive);
    await sh(["buildah", ...this.storage, "pull", "-q", `docker-archive:${archive}`]);
  }

  /** A new storage root (the old one moved aside, see trash.ts) with only the bases pulled. */
  async reset(): Promise<void> {
    await sh(["buildah", ...this.storage, "rm", "--all"], { allowFail: true }); // no working containers left mounted
    moveAside(this.root);
    for (const a of this.bases) await sh(["buildah", ...this.storage, "pull", "-q", `docker-archive:${a}`]);
  }

  build(req: BuildRequest): Promise<RunResult> {
    // host network: buildah's RUN networking (netavark/CNI) is not set up here, and the others need none
    const bud = ["buildah", ...this.storage, "bud", "--layers", "-q", "--network", "host", "-f", req.dockerfile, "-t", req.tag];
    if (req.noCache) bud.push("--no-cache");
    if (!req.ociDest) return timed([...bud, req.context]);
    // buildah bud has no OCI-archive output; the export is a push to oci-archive after the build
    const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
    const push = ["buildah", ...this.storage, "push", "-q", req.tag, `oci-archive:${req.ociDest}`];
    return timed(["sh", "-c", `${[...bud, req.context].map(q).join(" ")} >/dev/null && ${push.map(q).join(" ")}`]);
  }

  async teardown(): Promise<void> {}
}
