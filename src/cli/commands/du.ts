/** `tsbuild du`: disk usage of the build cache, like `docker buildx du`. */
import { parseArgs } from "node:util";
import { UsageError, resolveRoot, computeUsage, formatSize, humanDuration, type UsageEntry } from "../../index.js";
import type { CliCommand, CliIo } from "../command.js";

const usage = `Usage: tsbuild du [OPTIONS]

Show the disk usage of the build cache.

Options:
      --root DIR   tsbuild root (default: $TSBUILD_ROOT, else ~/.local/share/tsbuild)
      --verbose    show every record in detail
`;

function run(argv: string[], io: CliIo): Promise<number> {
  let values: { root?: string; verbose?: boolean };
  try {
    ({ values } = parseArgs({ args: argv, options: { root: { type: "string" }, verbose: { type: "boolean" } }, strict: true }));
  } catch (e) {
    throw new UsageError(`${(e as Error).message} for "tsbuild du"`);
  }
  const usageInfo = computeUsage(resolveRoot(values.root, io.env));
  const now = Date.now();
  if (values.verbose) {
    for (const e of usageInfo.entries) io.stdout.write(detail(e, now) + "\n");
  } else if (usageInfo.entries.length > 0) {
    const rows = usageInfo.entries.map((e) => [
      e.id.slice(0, 25) + (e.current ? "" : "*"),
      String(e.reclaimable),
      formatSize(e.size),
      `${humanDuration(now - e.lastUsedAt)} ago`,
    ]);
    io.stdout.write(table(["ID", "RECLAIMABLE", "SIZE", "LAST ACCESSED"], rows));
  }
  io.stdout.write(`Reclaimable:\t${formatSize(usageInfo.reclaimable)}\nTotal:\t\t${formatSize(usageInfo.total)}\n`);
  return Promise.resolve(0);
}

function detail(e: UsageEntry, now: number): string {
  return [
    `ID:\t\t${e.id}`,
    `Created at:\t${new Date(e.createdAt).toISOString()}`,
    `Reclaimable:\t${e.reclaimable}`,
    `Dangling:\t${!e.current}`,
    `Size:\t\t${formatSize(e.size)}`,
    `Description:\t${e.description}`,
    `Last used:\t${humanDuration(now - e.lastUsedAt)} ago`,
    "",
  ].join("\n");
}

/** Columns padded with spaces, as buildx's tabwriter lays them out. */
function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 4))).join("") + "\n";
  return line(header) + rows.map(line).join("");
}

export const command: CliCommand = { summary: "Show disk usage of the build cache", usage, run };
