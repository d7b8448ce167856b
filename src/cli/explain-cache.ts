/** `--explain-cache`: after the build, every step as cached or the reason it had to run. */
import type { BuildResult } from "../index.js";

/** `cachedSteps`: names of the steps progress reported as CACHED, in build order. */
export function explainCache(result: BuildResult, cachedSteps: string[]): string {
  const { steps, cached, misses } = result.stats;
  const lines = [`Cache: ${cached} of ${steps} steps cached, ${misses.length} ran`];
  for (const name of cachedSteps) lines.push(`  CACHED  ${name}`);
  for (const m of misses) lines.push(`  MISS    ${m.name}: ${m.reason}`);
  return lines.join("\n") + "\n";
}
