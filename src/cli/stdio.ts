import { writeSync } from "node:fs";
import type { CliIo } from "./command.js";

type Output = CliIo["stdout"];

/**
 * The process's stdout or stderr for the CLI, with process.stdout (or stderr) made on first use
 * only. On a pipe that stream is a net.Socket, and making it loaded node:net and the stream
 * modules: 2.7 ms of a ~0.05 s no-op rebuild whose only output is one line of text. Until
 * something needs the stream itself (a tar piped to stdout, a TTY's size, a listener), text is
 * written to the descriptor with writeSync, which is what the stream does too on Linux: writes
 * to files, pipes and TTYs are synchronous. From then on everything goes through the stream, so
 * the order of the output holds.
 */
export function lazyStdio(fd: 1 | 2): Output {
  let stream: Output | undefined;
  const real = (): Output => (stream ??= fd === 1 ? process.stdout : process.stderr);
  const write = (chunk: string | Uint8Array, encoding?: BufferEncoding | ((err?: Error | null) => void), cb?: (err?: Error | null) => void): boolean => {
    const done = typeof encoding === "function" ? encoding : cb;
    if (stream) return typeof encoding === "function" || typeof chunk !== "string" ? stream.write(chunk, done) : stream.write(chunk, encoding, cb);
    const bytes = typeof chunk === "string" ? Buffer.from(chunk, typeof encoding === "string" ? encoding : "utf8") : chunk;
    let at = 0;
    try {
      while (at < bytes.length) at += writeSync(fd, bytes, at, bytes.length - at);
    } catch {
      // EAGAIN (a non-blocking descriptor), EPIPE, ...: the stream retries or reports as Node does
      return real().write(bytes.subarray(at), done);
    }
    if (done) process.nextTick(done);
    return true;
  };
  return new Proxy({} as Output, {
    get(_, name) {
      if (name === "write") return stream ? stream.write.bind(stream) : write;
      const s = real();
      const value = Reflect.get(s, name, s) as unknown;
      return typeof value === "function" ? (value as (...args: unknown[]) => unknown).bind(s) : value;
    },
    set(_, name, value) {
      return Reflect.set(real(), name, value);
    },
    has(_, name) {
      return name in real();
    },
  });
}
