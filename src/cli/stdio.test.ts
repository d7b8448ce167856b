import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const stdioModule = fileURLToPath(new URL("./stdio.ts", import.meta.url));

/** Runs `body` in a child Node (stdout and stderr are pipes) with `lazyStdio` imported; its output. */
function runChild(body: string): { stdout: string; stderr: string; status: number | null } {
  // process.stdout is a getter that makes the stream: count the calls
  const spy = `let made = 0; const d = Object.getOwnPropertyDescriptor(process, "stdout"); Object.defineProperty(process, "stdout", { ...d, get() { made++; return d.get.call(process); } }); globalThis.stdoutMade = () => made;`;
  const script = `import { lazyStdio } from ${JSON.stringify(stdioModule)};\n${spy}\n${body}`;
  const r = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

test("text written before and after the stream is needed arrives in order, without making the stream for text alone", () => {
  const r = runChild(`
    const out = lazyStdio(1);
    out.write("one\\n");
    out.write(Buffer.from("two\\n"));
    const before = stdoutMade(); // only text so far: no stream

    out.write("three\\n", () => out.write("after the callback\\n"));
    out.on("finish", () => {}); // needs the stream itself: made now
    out.write("four\\n");
    lazyStdio(2).write("to stderr " + before + "\\n");
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "one\ntwo\nthree\nfour\nafter the callback\n");
  assert.equal(r.stderr, "to stderr 0\n");
});

test("a stream piped into it gets the real stream (a tar to stdout)", () => {
  const r = runChild(`
    import { Readable } from "node:stream";
    const out = lazyStdio(1);
    out.write("head\\n");
    Readable.from(["a\\n", "b\\n"]).pipe(out);
  `);
  assert.equal(r.status, 0, r.stderr);
  assert.equal(r.stdout, "head\na\nb\n");
});
