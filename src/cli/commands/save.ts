/** `tsbuild save`: write images from the store to a tar (docker-archive by default, or an OCI layout tar). */
import { resolve } from "node:path";
import { Writable } from "node:stream";
import { parseArgs } from "node:util";
import { UsageError, saveImage } from "../../index.js";
import type { CliCommand } from "../command.js";
import { parseOrUsage, rootFor } from "./images.js";

const OPTIONS = {
  root: { type: "string" },
  output: { type: "string", short: "o" },
  format: { type: "string" },
} as const;

const usage = `Usage: tsbuild save [OPTIONS] IMAGE [IMAGE...]

Save images to a tar archive (streamed to stdout by default).

Options:
  -o, --output FILE     write to FILE instead of stdout
      --format FORMAT   docker (default; docker load-able, also an OCI layout) or oci
      --root DIR        tsbuild root (default: $TSBUILD_ROOT, else ~/.local/share/tsbuild)
`;

export const command: CliCommand = {
  summary: "Save images to a tar archive",
  usage,
  async run(argv, io) {
    const { values, positionals } = parseOrUsage(() => parseArgs({ args: argv, options: OPTIONS, allowPositionals: true, strict: true }));
    if (positionals.length === 0) throw new UsageError(`"tsbuild save" requires at least one image name`);
    const format = values.format ?? "docker";
    if (format !== "docker" && format !== "oci") throw new UsageError(`--format must be docker or oci, not "${format}"`);
    let dest: string | Writable;
    if (values.output !== undefined && values.output !== "-") dest = resolve(io.cwd, values.output);
    else if (io.stdout.isTTY) throw new UsageError("cowardly refusing to save to a terminal; use the -o flag or redirect");
    else dest = io.stdout as unknown as Writable;
    await saveImage(positionals, typeof dest === "string" ? dest : keepOpen(dest), { root: rootFor(values.root, io), format });
    return 0;
  },
};

/** Wraps stdout so that the tar pipeline ending does not close the process's stdout. */
function keepOpen(out: Writable): Writable {
  return new Writable({
    write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void) {
      out.write(chunk) ? cb() : out.once("drain", () => cb());
    },
  });
}
