import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { lockFile } from "./flock.js";

const flockModule = join(fileURLToPath(import.meta.url), "..", "flock.ts");

function node(code: string): ReturnType<typeof spawn> {
  return spawn(process.execPath, ["--import", "tsx", "--input-type=module", "-e", code], { stdio: ["pipe", "pipe", "inherit"] });
}

test("lockFile: held by another process, then free once that process is gone (even without release)", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-flock-"));
  const path = join(dir, "x.lock");
  try {
    // The other process takes the lock, says so, and exits on stdin EOF without releasing.
    const other = node(`
      import { lockFile } from ${JSON.stringify(flockModule)};
      await lockFile(${JSON.stringify(path)}, { wait: true });
      process.stdout.write("held");
      process.stdin.on("data", () => {}).on("end", () => process.exit(0));`);
    await new Promise<void>((r) => other.stdout!.once("data", () => r()));
    assert.equal(await lockFile(path, { wait: false }), undefined, "busy while the other process holds it");
    let got = false;
    const waiting = lockFile(path, { wait: true }).then((l) => ((got = true), l));
    assert.equal(await lockFile(path, { wait: false }), undefined);
    assert.equal(got, false);
    other.stdin!.end();
    const lock = await waiting;
    assert.ok(lock);
    await lock.release();
    const again = await lockFile(path, { wait: false });
    assert.ok(again, "free after release");
    await again.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test("lockFile: an aborted wait rejects", async () => {
  const dir = mkdtempSync(join(tmpdir(), "tsbuild-flock-"));
  const path = join(dir, "x.lock");
  try {
    const held = await lockFile(path, { wait: true });
    const ac = new AbortController();
    const waiting = lockFile(path, { wait: true, signal: ac.signal });
    ac.abort();
    await assert.rejects(waiting, (e: Error) => e.name === "CancelledError");
    await held!.release();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
