/** `tsbuild tag`: give an image in the store another name. */
import { parseArgs } from "node:util";
import { UsageError, openImageStore } from "../../index.js";
import type { CliCommand } from "../command.js";
import { parseOrUsage, rootFor } from "./images.js";

const OPTIONS = { root: { type: "string" } } as const;

const usage = `Usage: tsbuild tag [OPTIONS] SOURCE_IMAGE TARGET_IMAGE

Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE.

Options:
      --root DIR   tsbuild root (default: $TSBUILD_ROOT, else ~/.local/share/tsbuild)
`;

export const command: CliCommand = {
  summary: "Give an image another name",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseOrUsage(() => parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
    if (positionals.length !== 2) throw new UsageError(`"tsbuild tag" requires exactly 2 arguments: SOURCE_IMAGE TARGET_IMAGE`);
    openImageStore(rootFor(values.root, io)).tag(positionals[0]!, positionals[1]!);
    return 0;
  },
};
