import { lstatSync, readdirSync } from "node:fs";
import { join } from "node:path";
/** The cache half of a RUN or COPY vertex: look a key up, explain a miss, record a result. */
import type { StepInputs } from "../../cache/cache-index.js";
import { explainMiss } from "../../cache/explain-miss.js";
import type { CacheLookup } from "../../solver/types.js";
import type { BuildServices, StepResult } from "../services.js";
import type { Step } from "../steps.js";

/** `inputs` may be a function: it is only needed to explain a miss, so a hit never builds it. */
export async function lookupCached(svc: BuildServices, step: Step, key: string, parent: StepResult, inputs: StepInputs | (() => StepInputs)): Promise<CacheLookup<StepResult>> {
  svc.stats.steps++;
  const miss = (reason: string): CacheLookup<StepResult> => {
    svc.stats.misses.push({ name: step.name, reason });
    svc.stats.log.push({ name: step.name, cached: false, reason });
    return { hit: false, reason };
  };
  if (svc.noCache) return miss("--no-cache");
  if (svc.noCacheStages.has(step.stageName)) return miss(`--no-cache-filter ${step.stageName}`);
  const record = svc.cacheIndex.get(key);
  if (record && (await svc.snapshotter.stat(record.snapshot))) {
    svc.cacheIndex.touch(key);
    svc.cacheIndex.setLastForStep(step.stepId, key);
    svc.stats.cached++;
    svc.stats.log.push({ name: step.name, cached: true });
    return { hit: true, result: { key, snapshot: record.snapshot, layers: [...parent.layers, { snapshot: record.snapshot }], createdAt: record.createdAt } };
  }
  const prevKey = svc.cacheIndex.lastForStep(step.stepId);
  const previous = prevKey === undefined ? undefined : svc.cacheIndex.get(prevKey);
  return miss(explainMiss(previous, { inputs: typeof inputs === "function" ? inputs() : inputs, parentKey: parent.key }, parent.ran === true));
}

/** `size`: the layer's bytes when the caller knows them (COPY does); otherwise its directory is walked. */
export async function recordResult(svc: BuildServices, step: Step, key: string, parent: StepResult, snapshot: string, inputs: StepInputs | (() => StepInputs), size?: number): Promise<StepResult> {
  const now = Date.now();
  svc.cacheIndex.put({
    key,
    snapshot,
    size: size ?? diskUsage(await svc.snapshotter.diffDir(snapshot)),
    createdAt: now,
    lastUsedAt: now,
    step: { kind: step.kind, description: step.name, parentKey: parent.key, inputs: typeof inputs === "function" ? inputs() : inputs },
  });
  svc.cacheIndex.setLastForStep(step.stepId, key);
  return { key, snapshot, layers: [...parent.layers, { snapshot }], createdAt: now, ran: true };
}

/** Bytes a layer directory holds (file sizes; directories and links count as nothing). */
function diskUsage(dir: string): number {
  let total = 0;
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) total += lstatSync(p).size;
    }
  };
  walk(dir);
  return total;
}
