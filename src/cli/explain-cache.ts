/** `--explain-cache`: after the build, every step as cached or the reason it had to run. */
import type { BuildResult } from "../index.js";

export function explainCache(result: BuildResult): string {
  const { steps, cached, log } = result.stats;
  const lines = [`Cache: ${cached} of ${steps} steps cached, ${steps - cached} ran`];
  for (const e of log) lines.push(e.cached ? `  CACHED  ${e.name}` : `  MISS    ${e.name}: ${e.reason ?? ""}`);
  return lines.join("\n") + "\n";
}
