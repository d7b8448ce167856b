/** `tsbuild push NAME[:TAG]`: uploads an image from the local image store to its registry. */
import { parseArgs } from "node:util";
import { UsageError, TsbuildError, resolveRoot, openImageStore, parseReference, pushImage, type TransferEvent } from "../../index.js";
import type { CliCommand, CliIo } from "../command.js";

const usage = `Usage: tsbuild push [OPTIONS] NAME[:TAG]

Upload an image from the local image store to a registry.

Credentials come from $DOCKER_CONFIG/config.json (default ~/.docker/config.json), as with
docker login. localhost and 127.0.0.1 registries are reached over plain http.

Options:
      --root DIR                 tsbuild root (default: $TSBUILD_ROOT, else ~/.local/share/tsbuild)
      --insecure-registry HOST   reach HOST[:PORT] over plain http (repeatable)
      --mount-from REPO          try cross-repository mounts from REPO on the same registry
  -q, --quiet                    print only the pushed digest
`;

async function run(argv: string[], io: CliIo): Promise<number> {
  let parsed: { values: { root?: string; "insecure-registry"?: string[]; "mount-from"?: string; quiet?: boolean }; positionals: string[] };
  try {
    parsed = parseArgs({
      args: argv,
      options: {
        root: { type: "string" },
        "insecure-registry": { type: "string", multiple: true },
        "mount-from": { type: "string" },
        quiet: { type: "boolean", short: "q" },
      },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(`${(e as Error).message} for "tsbuild push"`);
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`"tsbuild push" requires exactly 1 argument: NAME[:TAG]`);
  const name = positionals[0]!;
  const ref = parseReference(name);
  const images = openImageStore(resolveRoot(values.root, io.env));
  const record = images.get(ref.toString());
  if (!record) throw new TsbuildError("image/not-found", `no such image: ${name} (see 'tsbuild images')`);

  const quiet = values.quiet === true;
  const onProgress = (e: TransferEvent) => {
    if (quiet) return;
    const short = (d: string) => d.slice("sha256:".length, "sha256:".length + 12);
    if (e.kind === "blob-exists") io.stderr.write(`${short(e.digest)}: Layer already exists\n`);
    else if (e.kind === "blob-mounted") io.stderr.write(`${short(e.digest)}: Mounted from ${e.from}\n`);
    else if (e.kind === "blob-done") io.stderr.write(`${short(e.digest)}: Pushed\n`);
  };
  if (!quiet) io.stderr.write(`The push refers to repository [${ref.name}]\n`);
  const result = await pushImage({
    store: images.content,
    ref: ref.toString(),
    descriptor: record.descriptor,
    insecureRegistries: values["insecure-registry"],
    mountFrom: values["mount-from"],
    env: io.env,
    dockerConfigDir: io.env.DOCKER_CONFIG || undefined,
    onProgress,
  });
  io.stdout.write(quiet ? `${result.digest}\n` : `${ref.tag ?? ref.digest}: digest: ${result.digest} size: ${result.size}\n`);
  return 0;
}

export const command: CliCommand = {
  summary: "Upload an image to a registry",
  usage,
  run,
};
