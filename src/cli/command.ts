/** What every CLI command module exports. Commands are thin: they parse argv and call the library. */
export interface CliIo {
  stdout: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stderr: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  stdin: NodeJS.ReadableStream;
  env: NodeJS.ProcessEnv;
  cwd: string;
}

export interface CliCommand {
  /** One line for `tsbuild --help`. */
  summary: string;
  /** Full help text for `tsbuild <command> --help`. */
  usage: string;
  /** Runs the command; resolves to the process exit code. Throws TsbuildError for user errors. */
  run(argv: string[], io: CliIo): Promise<number>;
}
