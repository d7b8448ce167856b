/** Shared by the CLI and API tests: a fixture root with busybox, captured CLI streams, the built package. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Readable } from "node:stream";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { makeBusyboxImage } from "../../fixtures/make-base-images.js";
import { main } from "../../src/cli/main.js";

export const REPO = join(fileURLToPath(import.meta.url), "..", "..", "..");

export interface Fixture {
  dir: string;
  root: string;
  cleanup(): void;
}

/** A temp dir with a tsbuild root that holds busybox:latest. */
export async function makeFixture(prefix: string): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const root = join(dir, "root");
  await makeBusyboxImage({ outDir: join(dir, "fixtures"), root });
  return { dir, root, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface CliRun {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI in-process with captured streams, as a shell would with stdout/stderr apart. */
export async function runCli(argv: string[], opts: { env?: NodeJS.ProcessEnv; stdin?: string; cwd?: string; isTTY?: boolean } = {}): Promise<CliRun> {
  const out = new PassThrough();
  const err = new PassThrough();
  const chunks = { out: [] as Buffer[], err: [] as Buffer[] };
  out.on("data", (c: Buffer) => chunks.out.push(c));
  err.on("data", (c: Buffer) => chunks.err.push(c));
  const stderr = Object.assign(err, { isTTY: opts.isTTY ?? false, columns: 120, rows: 50 });
  const code = await main(argv, {
    stdout: out,
    stderr,
    stdin: Readable.from(opts.stdin !== undefined ? [Buffer.from(opts.stdin)] : []),
    env: { PATH: process.env.PATH, ...opts.env },
    cwd: opts.cwd ?? process.cwd(),
  });
  return { code, stdout: Buffer.concat(chunks.out).toString(), stderr: Buffer.concat(chunks.err).toString() };
}

/**
 * Compiles the package (tsc into dist/, what `npm run build` does before the native helpers,
 * which the test environment has built) once per source change; flock keeps two test files from
 * compiling at the same time.
 */
export function ensureBuiltPackage(): void {
  const r = spawnSync("flock", [join(tmpdir(), "tsbuild-test-dist.lock"), process.execPath, join(REPO, "test/cli/compile-package.mjs")], { cwd: REPO, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`compiling the package failed:\n${r.stdout}\n${r.stderr}`);
}

/** Removes ANSI escape sequences (CSI and OSC), as a screen would consume them. */
export function stripAnsi(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, "").replace(/\x1b\][^\x07]*\x07/g, "");
}
