/** `tsbuild images`: list the local image store as `docker images` does. */
import { resolve } from "node:path";
import { parseArgs } from "node:util";
import { UsageError, resolveRoot, openImageStore, readImage, familiarRepository, parseImageName, isIndexMediaType } from "../../index.js";
import type { CliCommand, CliIo } from "../command.js";

const OPTIONS = {
  root: { type: "string" },
  quiet: { type: "boolean", short: "q" },
  "no-trunc": { type: "boolean" },
} as const;

const usage = `Usage: tsbuild images [OPTIONS]

List images in the local image store.

Options:
  -q, --quiet       only show image IDs
      --no-trunc    show full image IDs
      --root DIR    tsbuild root (default: $TSBUILD_ROOT, else ~/.local/share/tsbuild)
`;

/** Runs an argv parser, turning its errors (unknown flag, missing value) into usage errors. */
export function parseOrUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}

/** The tsbuild root for a command: `--root` (relative to the cwd), then TSBUILD_ROOT, then the default. */
export function rootFor(flag: string | undefined, io: CliIo): string {
  return resolveRoot(flag === undefined ? undefined : resolve(io.cwd, flag), io.env);
}

/** Docker's size text: decimal units, 3 significant digits (`5.57MB`). */
export function humanSize(bytes: number): string {
  const units = ["B", "kB", "MB", "GB", "TB", "PB"];
  let v = bytes;
  let i = 0;
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return `${Number(v.toPrecision(3))}${units[i]}`;
}

/** Docker's "N units ago" text. */
export function humanAgo(created: string | undefined, now = Date.now()): string {
  const t = created ? Date.parse(created) : NaN;
  if (Number.isNaN(t)) return "N/A";
  const s = Math.max(0, Math.floor((now - t) / 1000));
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? "" : "s"} ago`;
  if (s < 1) return "Less than a second ago";
  if (s < 60) return plural(s, "second");
  const m = Math.round(s / 60);
  if (m === 1) return "About a minute ago";
  if (m < 60) return plural(m, "minute");
  const h = Math.round(s / 3600);
  if (h === 1) return "About an hour ago";
  if (h < 48) return plural(h, "hour");
  const days = Math.floor(h / 24);
  if (days < 14) return plural(days, "day");
  if (days < 60) return plural(Math.floor(days / 7), "week");
  if (days < 730) return plural(Math.floor(days / 30), "month");
  return plural(Math.floor(days / 365), "year");
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]! + 3))).join("").trimEnd() + "\n").join("");
}

export const command: CliCommand = {
  summary: "List images in the local image store",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseOrUsage(() => parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
    if (positionals.length > 0) throw new UsageError(`"tsbuild images" takes no arguments (got ${positionals.join(" ")})`);
    const images = openImageStore(rootFor(values.root, io));
    const rows: string[][] = [["REPOSITORY", "TAG", "IMAGE ID", "CREATED", "SIZE"]];
    const ids: string[] = [];
    for (const rec of images.list()) {
      // IMAGE ID is the config digest (Docker's image ID); a multi-platform index shows the index digest
      let id: string = rec.descriptor.digest;
      let created: string | undefined;
      let size = rec.descriptor.size;
      try {
        const read = await readImage(images.content, rec.descriptor);
        if (!isIndexMediaType(rec.descriptor.mediaType)) id = read.manifest.config.digest;
        created = read.config.created;
        size = read.manifest.layers.reduce((n, l) => n + l.size, read.manifest.config.size);
      } catch {
        // a record whose blobs are gone still lists, with what the record itself knows
      }
      const shown = values["no-trunc"] ? id : id.slice("sha256:".length, "sha256:".length + 12);
      ids.push(shown);
      const n = parseImageName(rec.name);
      rows.push([familiarRepository(rec.name), n.tag ?? "<none>", shown, humanAgo(created), humanSize(size)]);
    }
    if (values.quiet) io.stdout.write([...new Set(ids)].map((i) => i + "\n").join(""));
    else io.stdout.write(table(rows));
    return 0;
  },
};
