/**
 * Turns `RUN --mount` specs into the Mounts of one RunRequest, BuildKit-style (see
 * moby/buildkit solver/llbsolver/mounts/mount.go): read-only binds, writable binds whose writes
 * are thrown away, persistent cache dirs with shared/private/locked sharing, tmpfs, secrets as
 * read-only files (or env vars), and the SSH agent socket.
 */
import { randomHex } from "../../internal/random-hex.js";
import { chownSync, lstatSync, mkdirSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { basename, join, posix } from "node:path";
import { ROOT_DIRS } from "../../internal/root.js";
import { runCommand } from "../snapshot/command.js";
import { copyTree } from "../snapshot/tree-copy.js";
import type { Mount } from "../types.js";
import { acquireCacheDir } from "./cache-dir.js";
import { RunMountError } from "./errors.js";
import { readSecret } from "./secrets.js";
import { sourcePath } from "./source-path.js";
import type { RunMounts, RunMountSpec, RunMountsOptions } from "./types.js";

/** Prepares the mounts of one RUN; on failure everything taken so far is released. */
export async function prepareRunMounts(specs: RunMountSpec[], options: RunMountsOptions): Promise<RunMounts> {
  const releases: Array<() => Promise<void>> = [];
  const release = async () => {
    for (const r of releases.splice(0).reverse()) await r();
  };
  // Made on first use: most RUNs have no mount that needs scratch space (saves a mkdir and an rm per RUN).
  let scratch: string | undefined;
  const scratchDir = (): string => {
    if (scratch !== undefined) return scratch;
    const dir = join(options.root, ROOT_DIRS.tmp, `run-mounts-${process.pid}-${randomHex(6)}`);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    releases.unshift(() => rm(dir, { recursive: true, force: true }));
    return (scratch = dir);
  };
  const state: BuildState = { options, scratch: scratchDir, mounts: [], env: [], releases, count: 0, sshCount: 0 };
  try {
    for (const spec of specs) await addMount(state, spec);
  } catch (err) {
    await release();
    throw err;
  }
  return {
    mounts: state.mounts,
    env: state.env,
    targets: state.mounts.map((m) => m.target),
    release,
    [Symbol.asyncDispose]: release,
  };
}

interface BuildState {
  options: RunMountsOptions;
  /** The RUN's scratch dir, created on first call and removed on release. */
  scratch: () => string;
  mounts: Mount[];
  env: string[];
  releases: Array<() => Promise<void>>;
  /** Numbers scratch entries. */
  count: number;
  sshCount: number;
}

async function addMount(st: BuildState, spec: RunMountSpec): Promise<void> {
  switch (spec.type) {
    case "bind":
      return addBind(st, spec, requireTarget(spec));
    case "cache": {
      const target = requireTarget(spec);
      const cache = await acquireCacheDir(st.options.root, { ...spec, id: spec.id ?? target }, st.options.signal);
      st.releases.push(cache.release);
      st.mounts.push(bind(cache.dir, target, spec.readonly === true));
      return;
    }
    case "tmpfs":
      st.mounts.push({ type: "tmpfs", source: "tmpfs", target: requireTarget(spec), options: ["nosuid", "nodev", ...(spec.size ? [`size=${spec.size}`] : [])] });
      return;
    case "secret":
      return addSecret(st, spec);
    case "ssh":
      return addSsh(st, spec);
  }
}

async function addBind(st: BuildState, spec: RunMountSpec, target: string): Promise<void> {
  const from = spec.fromDir ?? st.options.contextDir;
  if (from === undefined) throw new RunMountError("invalid", `--mount=type=bind,target=${target}: no source directory (context or from=)`);
  const src = sourcePath(from, spec.source);
  const info = lstatSync(src, { throwIfNoEntry: false });
  if (!info) throw new RunMountError("source-missing", `--mount=type=bind: ${spec.source ?? "/"} not found in ${spec.from ?? "the build context"}`);
  if (!spec.rw) {
    st.mounts.push(bind(src, target, true));
    return;
  }
  // Writes must never reach the source: an overlay with a throwaway upper, or a throwaway copy.
  const n = st.count++;
  if (info.isDirectory() && st.options.overlay !== false && !/[,:]/.test(src)) {
    const scratch = st.scratch();
    mkdirSync(join(scratch, `bind-${n}`, "u"), { recursive: true });
    mkdirSync(join(scratch, `bind-${n}`, "w"));
    st.mounts.push({ type: "overlay", source: "overlay", target, options: [`lowerdir=${src}`, `upperdir=bind-${n}/u`, `workdir=bind-${n}/w`], cwd: scratch });
  } else {
    const copy = join(st.scratch(), `bind-${n}`);
    if (info.isDirectory()) {
      mkdirSync(copy);
      await copyTree(src, copy);
    } else {
      await runCommand("cp", ["-a", "--reflink=auto", "--", src, copy]);
    }
    st.mounts.push(bind(copy, target, false));
  }
}

async function addSecret(st: BuildState, spec: RunMountSpec): Promise<void> {
  const id = spec.id ?? (spec.target ? basename(spec.target) : undefined);
  if (!id) throw new RunMountError("invalid", "--mount=type=secret needs id= or target=");
  const value = readSecret(st.options.secrets, id, st.options.env ?? process.env);
  if (value === undefined) {
    if (spec.required) throw new RunMountError("secret-missing", `secret ${id} is required but was not provided (--secret id=${id},src=FILE)`);
    return;
  }
  if (spec.env !== undefined) st.env.push(`${spec.env}=${value.toString()}`);
  if (spec.env !== undefined && spec.target === undefined) return; // env only
  const dir = join(st.scratch(), "secrets");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, String(st.count++));
  writeFileSync(file, value, { mode: spec.mode ?? 0o400 });
  chownSync(file, spec.uid ?? 0, spec.gid ?? 0);
  st.mounts.push(bind(file, spec.target ?? `/run/secrets/${id}`, true));
}

function addSsh(st: BuildState, spec: RunMountSpec): void {
  const id = spec.id ?? "default";
  const env = st.options.env ?? process.env;
  const socket = st.options.sshAgents?.get(id) ?? (id === "default" ? env.SSH_AUTH_SOCK : undefined);
  if (!socket || !lstatSync(socket, { throwIfNoEntry: false })?.isSocket()) {
    if (spec.required) throw new RunMountError("ssh-missing", `ssh agent ${id} is required but not available (set SSH_AUTH_SOCK or --ssh ${id}=SOCKET)`);
    return;
  }
  const target = spec.target ?? `/run/buildkit/ssh_agent.${st.sshCount}`;
  st.sshCount++;
  st.mounts.push(bind(socket, target, false));
  st.env.push(`SSH_AUTH_SOCK=${target}`);
}

function requireTarget(spec: RunMountSpec): string {
  if (!spec.target) throw new RunMountError("invalid", `--mount=type=${spec.type} needs target=`);
  return posix.normalize("/" + spec.target);
}

function bind(source: string, target: string, readonly: boolean): Mount {
  return { type: "bind", source, target, options: ["rbind", readonly ? "ro" : "rw"] };
}
