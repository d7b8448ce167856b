/** `tsbuild build [OPTIONS] CONTEXT`: the flags of `docker buildx build`, mapped onto build(). */
import { readFileSync, existsSync, writeFileSync } from "node:fs";
import { isAbsolute, join, relative, resolve } from "node:path";
import { build, CancelledError, LogArchive, createRenderer, type BuildResult } from "../../index.js";
import { BUILD_USAGE, parseBuildFlags, type BuildCliSettings } from "../build-flags.js";
import { formatFailure, stepErrorOf } from "../error-report.js";
import { appendStepSummary, errorCommand, inGitHubActions, summaryMarkdown } from "../github-actions.js";
import { explainCache } from "../explain-cache.js";
import type { CliCommand, CliIo } from "../command.js";

async function readAll(stream: NodeJS.ReadableStream): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of stream) chunks.push(typeof c === "string" ? Buffer.from(c) : Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks).toString("utf8");
}

/** The Dockerfile's text for the error frame (build() reads it itself for the build). */
function dockerfileTextFor(s: BuildCliSettings): string | undefined {
  if (s.options.dockerfileText !== undefined) return s.options.dockerfileText;
  const candidates = s.options.file ? [s.options.file] : [join(s.options.context, "Dockerfile"), join(s.options.context, "Containerfile")];
  for (const c of candidates) if (existsSync(c)) {
    try {
      return readFileSync(c, "utf8");
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/**
 * SIGINT aborts the build's signal, so every sandbox is stopped and the cache stays consistent;
 * a second SIGINT exits at once.
 */
function onInterrupt(controller: AbortController, io: CliIo): () => void {
  const handler = () => {
    if (!controller.signal.aborted) {
      io.stderr.write("\nCancelling the build (press Ctrl-C again to exit at once)…\n");
      controller.abort(new CancelledError("build cancelled (interrupted)"));
    } else {
      process.exit(130);
    }
  };
  process.on("SIGINT", handler);
  return () => void process.off("SIGINT", handler);
}

/** Annotations need the path from the repository root: GITHUB_WORKSPACE, else the cwd. */
function dockerfileHostPath(s: ReturnType<typeof parseBuildFlags>, io: CliIo): string {
  if (s.options.file && s.options.file !== "-") return resolve(io.cwd, s.options.file);
  const context = resolve(io.cwd, s.options.context);
  const containerfile = join(context, "Containerfile");
  return !existsSync(join(context, "Dockerfile")) && existsSync(containerfile) ? containerfile : join(context, "Dockerfile");
}

function relativeToWorkspace(file: string, io: CliIo): string {
  if (!isAbsolute(file)) return file;
  const rel = relative(io.env.GITHUB_WORKSPACE || io.cwd, file);
  return rel.startsWith("..") ? file : rel;
}

async function run(argv: string[], io: CliIo): Promise<number> {
  const s = parseBuildFlags(argv, io.env, io.cwd);
  if (s.dockerfileFromStdin) s.options.dockerfileText = await readAll(io.stdin);
  if (s.cacheFrom.length || s.cacheTo.length) {
    io.stderr.write(`WARNING: remote cache import/export (--cache-from/--cache-to) is not supported yet; tsbuild uses its local cache under the tsbuild root only\n`);
  }
  const gha = inGitHubActions(io.env);
  const logs = new LogArchive();
  // Logs stay on disk only when a renderer showed their path (it clipped them).
  let logPathShown = false;
  const logPathOf = (v: string) => {
    const p = logs.pathOf(v);
    if (p) logPathShown = true;
    return p;
  };
  const renderer = createRenderer(s.progress, io.stderr, { env: io.env, logPathOf });
  const controller = new AbortController();
  const restore = onInterrupt(controller, io);
  const started = Date.now();
  const dockerfileName = s.dockerfileFromStdin ? "-" : s.options.file ?? "Dockerfile";
  let result: BuildResult;
  try {
    result = await build({
      ...s.options,
      stdout: io.stdout,
      signal: controller.signal,
      onProgress: (status) => {
        logs.update(status);
        renderer.update(status);
      },
    });
  } catch (err) {
    renderer.finish();
    restore();
    if (err instanceof CancelledError || stepErrorOf(err)?.code === "cancelled" || (controller.signal.aborted && !stepErrorOf(err))) {
      io.stderr.write(`ERROR: ${err instanceof Error ? err.message : String(err)}\n`);
      if (!logPathShown) logs.discard();
      return 130;
    }
    const step = stepErrorOf(err);
    if (!step) {
      if (!logPathShown) logs.discard();
      if (gha) appendStepSummary(io.env, summaryMarkdown({ dockerfile: dockerfileName, tags: s.options.tags ?? [], durationMs: Date.now() - started, error: (err as Error).message }));
      throw err;
    }
    // Name the full log only when the block below shows less than the step printed.
    const vertex = logs.vertexNamed(step.step);
    const clipped = vertex !== undefined && logs.lineCount(vertex) > step.logTail.length;
    const report = formatFailure(err, dockerfileTextFor(s), clipped ? logs.pathOf(vertex) : undefined);
    if (!clipped && !logPathShown) logs.discard();
    io.stderr.write(report.text);
    if (gha) {
      // Locations name the Dockerfile as BuildKit does (relative to the context); annotations need its path in the workspace.
      const loc = report.location && { ...report.location, file: relativeToWorkspace(dockerfileHostPath(s, io), io) };
      const line = errorCommand(report.message, loc);
      (s.stdoutIsData || s.quiet ? io.stderr : io.stdout).write(line);
      appendStepSummary(io.env, summaryMarkdown({ dockerfile: dockerfileName, tags: s.options.tags ?? [], durationMs: Date.now() - started, error: report.message }));
    }
    return 1;
  }
  renderer.finish();
  restore();
  if (!logPathShown) logs.discard();
  if (s.iidfile) writeFileSync(s.iidfile, result.configDigest);
  if (s.metadataFile) writeFileSync(s.metadataFile, JSON.stringify(result.metadata, null, 2) + "\n");
  if (s.explainCache) io.stderr.write(explainCache(result));
  for (const w of result.warnings) io.stderr.write(`WARNING: ${w}\n`);
  if (gha) appendStepSummary(io.env, summaryMarkdown({ dockerfile: dockerfileName, tags: s.options.tags ?? [], durationMs: Date.now() - started, result }));
  if (s.quiet && !s.stdoutIsData) io.stdout.write(`${result.configDigest}\n`);
  return 0;
}

export const command: CliCommand = {
  summary: "Build an image from a Dockerfile",
  usage: BUILD_USAGE,
  run,
};
