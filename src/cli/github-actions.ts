/**
 * GitHub Actions integration, on when GITHUB_ACTIONS=true: a failing Dockerfile instruction
 * becomes an `::error file=…,line=…::` workflow command (an annotation on the PR diff), and a
 * markdown summary of the build is appended to $GITHUB_STEP_SUMMARY.
 */
import { appendFileSync } from "node:fs";
import type { BuildResult, SourceLocation } from "../index.js";

export function inGitHubActions(env: NodeJS.ProcessEnv): boolean {
  return env.GITHUB_ACTIONS === "true";
}

function escapeData(s: string): string {
  return s.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A");
}

function escapeProperty(s: string): string {
  return escapeData(s).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

/** `::error file=Dockerfile,line=4,endLine=4,title=…::message`, GitHub's workflow command. */
export function errorCommand(message: string, location?: SourceLocation, title = "Build failed"): string {
  const props: string[] = [];
  if (location) {
    props.push(`file=${escapeProperty(location.file)}`, `line=${location.line}`);
    if (location.endLine !== undefined) props.push(`endLine=${location.endLine}`);
  }
  props.push(`title=${escapeProperty(title)}`);
  return `::error ${props.join(",")}::${escapeData(message)}\n`;
}

export interface SummaryInput {
  dockerfile: string;
  tags: string[];
  durationMs: number;
  result?: BuildResult;
  error?: string;
}

/** The job summary: one table of steps, cache hits, time and digest (or the error). */
export function summaryMarkdown(s: SummaryInput): string {
  const rows: [string, string][] = [["Dockerfile", `\`${s.dockerfile}\``]];
  if (s.tags.length) rows.push(["Tags", s.tags.map((t) => `\`${t}\``).join(", ")]);
  rows.push(["Status", s.result ? "✅ built" : "❌ failed"]);
  rows.push(["Duration", `${(s.durationMs / 1000).toFixed(1)}s`]);
  if (s.result) {
    const { steps, cached } = s.result.stats;
    rows.push(["Steps", String(steps)], ["Cache hits", `${cached}/${steps}`], ["Digest", `\`${s.result.digest}\``], ["Image ID", `\`${s.result.configDigest}\``]);
  }
  if (s.error) rows.push(["Error", `\`${s.error.replace(/\|/g, "\\|").replace(/\n/g, " ")}\``]);
  const lines = ["### tsbuild build", "", "| | |", "|---|---|", ...rows.map(([k, v]) => `| ${k} | ${v} |`), ""];
  const misses = s.result?.stats.misses ?? [];
  if (misses.length) {
    lines.push("<details><summary>Cache misses</summary>", "", ...misses.map((m) => `- \`${m.name}\`: ${m.reason}`), "", "</details>", "");
  }
  return lines.join("\n") + "\n";
}

export function appendStepSummary(env: NodeJS.ProcessEnv, markdown: string): void {
  if (env.GITHUB_STEP_SUMMARY) appendFileSync(env.GITHUB_STEP_SUMMARY, markdown);
}
