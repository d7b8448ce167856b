import { TsbuildError, UsageError, CancelledError, LocatedError, AggregateLocatedError, suggest } from "../index.js";
import type { CliCommand, CliIo } from "./command.js";
import { lazyStdio } from "./stdio.js";

/** Commands are loaded lazily so `tsbuild plan` does not pay for the image code. */
const COMMANDS: Record<string, () => Promise<{ command: CliCommand }>> = {
  // one line per command: name: () => import("./commands/<name>.js"),
  build: () => import("./commands/build.js"),
  plan: () => import("./commands/plan.js"),
  du: () => import("./commands/du.js"),
  prune: () => import("./commands/prune.js"),
  images: () => import("./commands/images.js"),
  load: () => import("./commands/load.js"),
  save: () => import("./commands/save.js"),
  tag: () => import("./commands/tag.js"),
  rmi: () => import("./commands/rmi.js"),
  push: () => import("./commands/push.js"),
};

export const EXIT_OK = 0;
export const EXIT_BUILD_FAILED = 1;
export const EXIT_USAGE = 2;
export const EXIT_CANCELLED = 130;

function defaultIo(): CliIo {
  return {
    // made on first use: a no-op rebuild writes one line (see stdio.ts)
    stdout: lazyStdio(1),
    stderr: lazyStdio(2),
    // process.stdin makes a stream (a socket for a pipe) on first access: only `-f -` reads it
    get stdin() {
      return process.stdin;
    },
    env: process.env,
    cwd: process.cwd(),
  };
}

async function loadCommand(name: string): Promise<CliCommand | undefined> {
  const load = COMMANDS[name];
  if (!load) return undefined;
  try {
    return (await load()).command;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ERR_MODULE_NOT_FOUND") return undefined;
    throw err;
  }
}

async function topLevelHelp(): Promise<string> {
  const rows: string[] = [];
  for (const name of Object.keys(COMMANDS)) {
    const cmd = await loadCommand(name);
    if (cmd) rows.push(`  ${name.padEnd(8)} ${cmd.summary}`);
  }
  return [
    "Usage: tsbuild [build] [OPTIONS] CONTEXT",
    "       tsbuild COMMAND [OPTIONS]",
    "",
    "A daemonless Dockerfile build engine.",
    "",
    "Commands:",
    ...rows,
    "",
    "Run 'tsbuild COMMAND --help' for more information on a command.",
    "",
  ].join("\n");
}

/** Suggests the closest known word, for "unknown command/flag" errors (the parser's matcher). */
export function closest(word: string, candidates: string[]): string | undefined {
  return suggest(word, candidates);
}

/** Prints a user error (no stack trace) and returns the exit code for it. */
export function reportError(err: unknown, io: CliIo): number {
  if (err instanceof CancelledError) {
    io.stderr.write(`ERROR: ${err.message}\n`);
    return EXIT_CANCELLED;
  }
  if (err instanceof AggregateLocatedError) {
    for (const e of err.errors) io.stderr.write(`ERROR: ${e.message}\n${e.frame ? e.frame + "\n" : ""}`);
    return EXIT_BUILD_FAILED;
  }
  if (err instanceof LocatedError) {
    io.stderr.write(`ERROR: ${err.message}\n${err.frame ? err.frame + "\n" : ""}`);
    return EXIT_BUILD_FAILED;
  }
  if (err instanceof UsageError) {
    io.stderr.write(`ERROR: ${err.message}\nSee 'tsbuild --help'.\n`);
    return EXIT_USAGE;
  }
  if (err instanceof TsbuildError) {
    io.stderr.write(`ERROR: ${err.message}\n`);
    return EXIT_BUILD_FAILED;
  }
  const e = err as Error;
  io.stderr.write(`ERROR: internal error: ${e?.stack ?? String(err)}\nThis is a bug in tsbuild; please report it.\n`);
  return 70;
}

/** The CLI entry point: returns the exit code instead of exiting, so tests can call it. */
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  try {
    const [first, ...rest] = argv;
    if (first === undefined || first === "--help" || first === "-h" || first === "help") {
      io.stdout.write(await topLevelHelp());
      return first === undefined ? EXIT_USAGE : EXIT_OK;
    }
    if (first === "--version" || first === "version") {
      io.stdout.write("tsbuild 0.1.0\n");
      return EXIT_OK;
    }
    // `tsbuild [OPTIONS] CONTEXT` means build, as `docker buildx build` without the verb.
    const isCommand = first in COMMANDS;
    const name = isCommand ? first : first.startsWith("-") || first === "." || first.includes("/") ? "build" : first;
    const args = isCommand ? rest : argv;
    const cmd = await loadCommand(name);
    if (!cmd) {
      const hint = closest(name, Object.keys(COMMANDS));
      throw new UsageError(`unknown command "${name}"${hint ? `; did you mean "${hint}"?` : ""}`);
    }
    if (args.includes("--help") || args.includes("-h")) {
      io.stdout.write(cmd.usage.endsWith("\n") ? cmd.usage : cmd.usage + "\n");
      return EXIT_OK;
    }
    return await cmd.run(args, io);
  } catch (err) {
    return reportError(err, io);
  }
}
