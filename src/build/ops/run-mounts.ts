/** Turns a RUN's `--mount` plans into sandbox mounts (glue over src/exec/run-mounts). */

import { cleanupMountStubs, mountStubPaths, prepareRunMounts as prepareExecMounts, type LayerLookups, type RunMountSpec } from "../../exec/run-mounts/index.js";
import type { Mount } from "../../exec/types.js";
import { flattenedDir } from "../flattened.js";
import type { BuildServices, StepResult } from "../services.js";
import type { RunStep } from "../steps.js";

/** Paths the sandbox itself mounts over; if the image lacks them they are stubs too. */
const SANDBOX_TARGETS = ["/proc", "/sys", "/dev", "/etc/hosts", "/etc/resolv.conf", "/etc/hostname"];

/** What the committed (never changing) layers hold at mount targets, shared by every RUN of the process. */
const layerLookups: LayerLookups = new Map();

export interface PreparedRunMounts {
  mounts: Mount[];
  /** Extra `NAME=value` entries (secrets exposed with env=, SSH_AUTH_SOCK). */
  env: string[];
  /** Removes files and directories the sandbox created only as mount points. */
  cleanupStubs(upperDir: string): Promise<void>;
  release(): Promise<void>;
}

export async function prepareRunMounts(step: RunStep, mountResults: StepResult[], parent: StepResult, svc: BuildServices, signal: AbortSignal): Promise<PreparedRunMounts> {
  let next = 0;
  const specs: RunMountSpec[] = [];
  for (const m of step.mounts) {
    const s = m.spec;
    const spec: RunMountSpec = { type: s.type, readonly: s.readonly, required: s.required };
    if (s.target !== undefined) spec.target = s.target;
    if (s.source !== undefined) spec.source = s.source;
    if (s.id !== undefined) spec.id = s.id;
    if (s.sharing !== undefined) spec.sharing = s.sharing;
    if (s.mode !== undefined) spec.mode = s.mode;
    if (s.uid !== undefined) spec.uid = s.uid;
    if (s.gid !== undefined) spec.gid = s.gid;
    if (s.size !== undefined) spec.size = s.size;
    if (s.env !== undefined) spec.env = s.env;
    if (s.type === "bind" && !s.readonly) spec.rw = true;
    if (m.from && m.from.kind !== "context") {
      const source = mountResults[next++]!;
      spec.from = s.from ?? "";
      spec.fromDir = await flattenedDir(svc, source);
    }
    specs.push(spec);
  }
  const prepared = await prepareExecMounts(specs, {
    root: svc.root,
    contextDir: svc.contextDir,
    secrets: new Map(svc.secrets),
    sshAgents: new Map(svc.sshSockets),
    env: svc.env,
    signal,
  });
  const chain = parent.snapshot ? (await svc.snapshotter.chain(parent.snapshot)).reverse() : [];
  const targets = [...prepared.targets, ...SANDBOX_TARGETS];
  return {
    mounts: prepared.mounts,
    env: prepared.env,
    async cleanupStubs(upperDir) {
      // Stubs are what neither the lower layers nor the RUN itself had before the mount.
      if (layerLookups.size > 100_000) layerLookups.clear();
      cleanupMountStubs(upperDir, mountStubPaths(chain, targets, layerLookups));
    },
    release: () => prepared.release(),
  };
}

