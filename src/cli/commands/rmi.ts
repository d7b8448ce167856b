/** `tsbuild rmi`: remove image names from the store (blobs stay until pruned). */
import { parseArgs } from "node:util";
import { UsageError, familiarName, openImageStore } from "../../index.js";
import type { CliCommand } from "../command.js";
import { parseOrUsage, rootFor } from "./images.js";

const OPTIONS = { root: { type: "string" }, force: { type: "boolean", short: "f" } } as const;

const usage = `Usage: tsbuild rmi [OPTIONS] IMAGE [IMAGE...]

Remove one or more image names.

Options:
  -f, --force      do not report names that do not exist
      --root DIR   tsbuild root (default: $TSBUILD_ROOT, else ~/.local/share/tsbuild)
`;

export const command: CliCommand = {
  summary: "Remove image names",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseOrUsage(() => parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
    if (positionals.length === 0) throw new UsageError(`"tsbuild rmi" requires at least one image name`);
    const images = openImageStore(rootFor(values.root, io));
    let failed = false;
    for (const name of positionals) {
      const removed = images.remove(name);
      if (removed) io.stdout.write(`Untagged: ${familiarName(removed.name)}\n`);
      else if (!values.force) {
        io.stderr.write(`ERROR: No such image: ${name}\n`);
        failed = true;
      }
    }
    return failed ? 1 : 0;
  },
};
