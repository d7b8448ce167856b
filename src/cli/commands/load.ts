/** `tsbuild load`: read an image tar (docker-archive or OCI layout, optionally gzip) into the image store. */
import { resolve } from "node:path";
import type { Readable } from "node:stream";
import { parseArgs } from "node:util";
import { UsageError, familiarName, loadImageArchive } from "../../index.js";
import type { CliCommand } from "../command.js";
import { parseOrUsage, rootFor } from "./images.js";

const OPTIONS = {
  root: { type: "string" },
  input: { type: "string", short: "i" },
  quiet: { type: "boolean", short: "q" },
} as const;

const usage = `Usage: tsbuild load [OPTIONS]

Load images from a tar archive (docker save format or an OCI layout tar) or from stdin.

Options:
  -i, --input FILE   read from FILE instead of stdin
  -q, --quiet        print nothing
      --root DIR     tsbuild root (default: $TSBUILD_ROOT, else ~/.local/share/tsbuild)
`;

export const command: CliCommand = {
  summary: "Load images from a tar archive",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseOrUsage(() => parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
    if (positionals.length > 0) throw new UsageError(`"tsbuild load" takes no arguments; use -i FILE`);
    const input = values.input === undefined || values.input === "-" ? (io.stdin as Readable) : resolve(io.cwd, values.input);
    if (typeof input !== "string" && (io.stdin as { isTTY?: boolean }).isTTY) {
      throw new UsageError("requested load from stdin, but stdin is empty; use -i FILE");
    }
    const loaded = await loadImageArchive(input, { root: rootFor(values.root, io) });
    if (!values.quiet) {
      for (const l of loaded) {
        io.stdout.write(l.name ? `Loaded image: ${familiarName(l.name)}\n` : `Loaded image ID: ${l.descriptor.digest}\n`);
      }
    }
    return 0;
  },
};
