/** `tsbuild prune`: remove build cache, like `docker buildx prune`. */
import { parseArgs } from "node:util";
import { UsageError, resolveRoot, formatSize, parseDuration, parseSize, pruneCache, type PruneOptions, createSnapshotter } from "../../index.js";
import type { CliCommand, CliIo } from "../command.js";

const usage = `Usage: tsbuild prune [OPTIONS]

Remove build cache. Without --all only dangling cache goes: results that are no longer the
latest build of any Dockerfile step.

Options:
  -a, --all                   remove all unused build cache, not just dangling results
      --filter until=DURATION only remove cache unused for DURATION (Go syntax: 24h, 90m)
      --keep-storage SIZE     amount of cache to keep, least recently used goes first (e.g. 10GB)
  -f, --force                 do not prompt for confirmation
      --root DIR              tsbuild root (default: $TSBUILD_ROOT, else ~/.local/share/tsbuild)
      --verbose               list what was removed
`;

const OPTIONS = {
  all: { type: "boolean", short: "a" },
  filter: { type: "string", multiple: true },
  "keep-storage": { type: "string" },
  force: { type: "boolean", short: "f" },
  root: { type: "string" },
  verbose: { type: "boolean" },
} as const;

/** How prune removes a committed snapshot; tests may pass their own. */
export interface PruneDeps {
  openSnapshotRemover?: (root: string) => Promise<(name: string) => Promise<void>>;
}

export function createPruneCommand(deps: PruneDeps = {}): CliCommand {
  return {
    summary: "Remove build cache",
    usage,
    async run(argv, io) {
      const values = parseArgv(argv);
      const root = resolveRoot(values.root, io.env);
      const options: Omit<PruneOptions, "removeSnapshot"> = { all: values.all ?? false };
      if (values["keep-storage"] !== undefined) options.keepStorageBytes = parseSize(values["keep-storage"]);
      for (const f of values.filter ?? []) {
        const [name, value] = splitFilter(f);
        if (name === "until" || name === "unused-for") options.until = parseDuration(value);
        else throw new UsageError(`unsupported filter "${name}" (supported: until=DURATION)`);
      }
      if (!values.force && !(await confirm(io, values.all ?? false))) return 0;
      const removeSnapshot = deps.openSnapshotRemover ? await deps.openSnapshotRemover(root) : async () => {};
      const result = await pruneCache(root, { ...options, removeSnapshot });
      if (values.verbose) {
        for (const r of result.removed) io.stdout.write(`Deleted: ${r.id}\t${formatSize(r.size)}\t${r.description}\n`);
      }
      for (const f of result.failed) io.stderr.write(`WARNING: could not remove ${f.id}: ${f.error}\n`);
      io.stdout.write(`Total:\t${formatSize(result.reclaimed)}\n`);
      return 0;
    },
  };
}

function parseArgv(argv: string[]) {
  try {
    return parseArgs({ args: argv, options: OPTIONS, strict: true }).values;
  } catch (e) {
    throw new UsageError(`${(e as Error).message} for "tsbuild prune"`);
  }
}

function splitFilter(f: string): [string, string] {
  const eq = f.indexOf("=");
  if (eq <= 0) throw new UsageError(`bad filter "${f}": expected KEY=VALUE, e.g. until=24h`);
  return [f.slice(0, eq), f.slice(eq + 1)];
}

/** Asks as buildx does; anything but y/yes (or end of input) means no. */
async function confirm(io: CliIo, all: boolean): Promise<boolean> {
  const what = all ? "all build cache" : "all dangling build cache";
  io.stdout.write(`WARNING! This will remove ${what}. Are you sure you want to continue? [y/N] `);
  let answer = "";
  for await (const chunk of io.stdin) {
    answer += String(chunk);
    if (answer.includes("\n")) break;
  }
  return /^\s*y(es)?\s*$/i.test(answer.split("\n")[0] ?? "");
}

/** Removes a pruned record's snapshot through the snapshotter, which refuses one still in use as a parent. */
async function openSnapshotRemover(root: string): Promise<(name: string) => Promise<void>> {
  const snapshotter = await createSnapshotter({ root });
  return async (name) => {
    if (await snapshotter.stat(name)) await snapshotter.remove(name);
  };
}

export const command: CliCommand = createPruneCommand({ openSnapshotRemover });
