/** The RUN vertex: a sandboxed process over a prepared snapshot, committed under its cache key. */
import { randomHex } from "../../internal/random-hex.js";
import { computeCacheKey, type MountDescription, type StepDescription } from "../../cache/cache-key.js";
import type { StepInputs } from "../../cache/cache-index.js";
import { CancelledError, StepError } from "../../errors/index.js";
import type { Mount } from "../../exec/types.js";
import type { Vertex, VertexContext } from "../../solver/types.js";
import type { BuildServices, StepResult } from "../services.js";
import type { RunStep } from "../steps.js";
import { lookupCached, recordResult } from "./cache-lookup.js";
import { prepareRunMounts, type PreparedRunMounts } from "./run-mounts.js";

const LOG_TAIL_LINES = 20;

export function runVertex(step: RunStep, parentId: string, mountInputIds: string[], svc: BuildServices): Vertex<StepResult> {
  let description: StepDescription | undefined;
  let inputsForExplain: StepInputs | undefined;
  return {
    id: `run:${parentId}:${JSON.stringify([step.args, step.env, step.user, step.workdir, step.network, step.security, step.mounts.map((m) => m.spec.raw)])}:${mountInputIds.join(",")}`,
    name: step.name,
    inputs: [parentId, ...mountInputIds],
    location: step.location,
    async lookup(inputs) {
      const [parent, ...mountResults] = inputs as [StepResult, ...StepResult[]];
      description = {
        kind: "run",
        args: step.args,
        env: step.env,
        user: step.user,
        workdir: step.workdir,
        network: step.network,
        security: step.security,
        mounts: describeMounts(step, mountResults),
      };
      inputsForExplain = { command: step.args.join(" "), env: step.env, other: { user: step.user, workdir: step.workdir, network: step.network } };
      const key = computeCacheKey({ parent: parent.key, step: description });
      return lookupCached(svc, step, key, parent, inputsForExplain);
    },
    async exec(inputs, ctx) {
      const [parent, ...mountResults] = inputs as [StepResult, ...StepResult[]];
      const key = computeCacheKey({ parent: parent.key, step: description! });
      // The pid in the key lets a later build remove this snapshot if this process is killed.
      const active = `run-${process.pid}-${randomHex(6)}`;
      const prepared = await svc.snapshotter.prepare(active, parent.snapshot ?? undefined, { sandboxMountPoints: true, makeNextAhead: true });
      let mounts: PreparedRunMounts | undefined;
      try {
        mounts = await prepareRunMounts(step, mountResults, parent, svc, ctx.signal);
        await runProcess(step, prepared.root, mounts, svc, ctx);
        await mounts.cleanupStubs(prepared.dir);
        await svc.snapshotter.commit(`run-${key}`, active);
      } catch (err) {
        await svc.snapshotter.remove(active).catch(() => {});
        throw err;
      } finally {
        await mounts?.release();
        await prepared.ahead; // made while the RUN ran; nothing left in flight once the step ends
      }
      return recordResult(svc, step, key, parent, `run-${key}`, inputsForExplain!);
    },
  };
}

async function runProcess(step: RunStep, root: Mount, mounts: PreparedRunMounts, svc: BuildServices, ctx: VertexContext): Promise<void> {
  const tail: string[] = [];
  let partial = "";
  const keep = (chunk: Buffer) => {
    const lines = (partial + chunk.toString("utf8")).split("\n");
    partial = lines.pop() ?? "";
    tail.push(...lines);
    if (tail.length > LOG_TAIL_LINES) tail.splice(0, tail.length - LOG_TAIL_LINES);
  };
  const result = await svc.executor.run(
    {
      root,
      mounts: mounts.mounts,
      spec: { args: step.args, env: [...step.env, ...mounts.env], cwd: step.workdir, user: step.user || "0", hostname: "buildkitsandbox", network: step.network },
      ...(svc.resources ? { resources: svc.resources } : {}),
    },
    {
      stdout: (c) => (keep(c), ctx.log(1, c)),
      stderr: (c) => (keep(c), ctx.log(2, c)),
    },
    ctx.signal,
  );
  if (ctx.signal.aborted) throw new CancelledError();
  if (partial) tail.push(partial);
  if (result.exitCode === 0) return;
  const how = (result.signal ? `signal: ${result.signal}` : `exit code: ${result.exitCode}`) + (result.oomKilled ? outOfMemoryText(svc.resources?.memoryBytes) : "");
  throw new StepError("build/run-failed", `process "${step.args.join(" ")}" did not complete successfully: ${how}`, {
    location: step.location,
    step: step.name,
    ...(result.exitCode !== null ? { exitCode: result.exitCode } : {}),
    ...(result.signal ? { signal: result.signal } : {}),
    logTail: tail.slice(-LOG_TAIL_LINES),
  });
}

/** Why a process died when the memory limit's OOM killer took it (BuildKit says only "exit code: 137"). */
function outOfMemoryText(limitBytes: number | undefined): string {
  const mib = limitBytes === undefined ? "" : ` of ${Number((limitBytes / 2 ** 20).toFixed(1))} MiB`;
  return ` (out of memory: a process of this RUN was killed for going over the --memory limit${mib})`;
}

/** Mounts as they enter the key: ids and targets, the keys of mounted stages, never secret values. */
function describeMounts(step: RunStep, mountResults: StepResult[]): MountDescription[] {
  let next = 0;
  return step.mounts.map((m): MountDescription => {
    const s = m.spec;
    const target = s.target ?? "";
    const fromKey = m.from && m.from.kind !== "context" ? mountResults[next++]!.key : null;
    switch (s.type) {
      case "bind":
        return { type: "bind", target, fromKey, source: s.source ?? "/", readonly: s.readonly };
      case "cache":
        return { type: "cache", target, id: s.id ?? target, sharing: s.sharing ?? "shared", readonly: s.readonly, ...(m.from ? { fromKey, source: s.source ?? "/" } : {}), ...(s.mode !== undefined ? { mode: s.mode } : {}), ...(s.uid !== undefined ? { uid: s.uid } : {}), ...(s.gid !== undefined ? { gid: s.gid } : {}) };
      case "tmpfs":
        return { type: "tmpfs", target, ...(s.size !== undefined ? { size: s.size } : {}) };
      case "secret":
      case "ssh":
        return { type: s.type, target, id: s.id ?? "", required: s.required, ...(s.mode !== undefined ? { mode: s.mode } : {}), ...(s.uid !== undefined ? { uid: s.uid } : {}), ...(s.gid !== undefined ? { gid: s.gid } : {}) };
    }
  });
}
