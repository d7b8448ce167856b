import assert from "node:assert/strict";
import { execFileSync, spawn } from "node:child_process";
import { memoryControllerMissing } from "../../test/support/cgroups.js";
import { createBusyboxRootfs } from "../../test/support/rootfs.js";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, test } from "node:test";
import { fileURLToPath } from "node:url";
import { HelperError } from "./errors.js";
import { createHelperExecutor } from "./helper-executor.js";
import { findHelper } from "./helper-path.js";
import { mountsUnder, overlayRoot, runSh, type Ran, sandboxUnavailable, waitForNoProcesses } from "./sandbox-test-support.js";

const skip = sandboxUnavailable();
const packageRoot = join(fileURLToPath(import.meta.url), "..", "..", "..");

test("a missing helper is a clear error", () => {
  assert.throws(() => createHelperExecutor({ helperPath: "/nonexistent/tsbuild-helper" }), (e: unknown) => {
    assert.ok(e instanceof HelperError);
    assert.equal(e.code, "exec/helper-missing");
    assert.match(e.message, /the sandbox helper is not built: run npm install \(needs a C compiler\)/);
    return true;
  });
});

describe("sandbox lifetime and privileges", { skip }, () => {
  test("SIGKILL of the Node process mid-RUN leaves no process and no mount", async () => {
    const o = overlayRoot();
    const marker = `tsbuild-sigkill-${process.pid}-${Date.now()}`;
    const script = join(o.dir, "run.mts");
    writeFileSync(
      script,
      `import { createHelperExecutor } from ${JSON.stringify(join(packageRoot, "src/exec/helper-executor.ts"))};
const root = JSON.parse(process.argv[2]);
await createHelperExecutor().run(
  { root, mounts: [], spec: { args: ["sh", "-c", "echo ready; sleep 60", ${JSON.stringify(marker)}], env: ["MARK=${marker}"], cwd: "/", user: "root", hostname: "h", network: "none" } },
  { stdout: (c) => process.stdout.write(c) },
);
`,
    );
    try {
      const child = spawn(process.execPath, ["--import", "tsx", script, JSON.stringify(o.root)], { cwd: packageRoot, stdio: ["ignore", "pipe", "inherit"] });
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (c: Buffer) => c.toString().includes("ready") && resolve());
        child.on("exit", () => reject(new Error("the runner exited before the RUN started")));
      });
      const exited = new Promise((r) => child.on("exit", r));
      child.kill("SIGKILL");
      await exited;
      assert.deepEqual(await waitForNoProcesses(marker), [], "no sandbox process survives");
      assert.deepEqual(mountsUnder(o.dir), []);
    } finally {
      o.cleanup();
    }
  });

  test("runs without root in a user namespace (as nobody via setpriv)", async (t) => {
    if (!existsSync("/usr/bin/setpriv")) return t.skip("setpriv (util-linux) not installed");
    const dir = mkdtempSync(join(tmpdir(), "tsbuild-rootless-"));
    try {
      chmodSync(dir, 0o755);
      const wrapper = join(dir, "helper-as-nobody");
      writeFileSync(wrapper, `#!/bin/sh\nexec setpriv --reuid=65534 --regid=65534 --clear-groups ${findHelper()} "$@"\n`);
      chmodSync(wrapper, 0o755);
      // Without root, every file of the root must belong to the mapped user (as for rootless
      // BuildKit, whose layers are unpacked by that user): copy-up cannot chown to unmapped ids.
      const lower = createBusyboxRootfs(join(dir, "rootfs"));
      const o = overlayRoot(lower);
      execFileSync("chown", ["-R", "-h", "65534:65534", lower, o.dir]);
      try {
        const ex = createHelperExecutor({ helperPath: wrapper });
        let r: Ran;
        try {
          r = await runSh(ex, "id -u; echo hi > /file; hostname", { root: o.root });
        } catch (e) {
          if (e instanceof HelperError && e.code === "exec/rootless-unsupported") return t.skip(e.message);
          throw e;
        }
        assert.equal(r.exitCode, 0, r.stderr);
        assert.match(r.stdout, /^0\n/);
        assert.match(r.stdout, /tsbuild-test\n$/);
        assert.equal(readFileSync(join(o.upper, "file"), "utf8"), "hi\n");
      } finally {
        o.cleanup();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("--memory gets a RUN that allocates beyond it OOM-killed", async (t) => {
    const reason = memoryControllerMissing();
    if (reason) return t.skip(reason);
    const warnings: string[] = [];
    const ex = createHelperExecutor({ onWarning: (m) => warnings.push(m) });
    // 64 MiB of 'x' through a pipe into a shell variable, well beyond the 16 MiB limit
    const r = await runSh(ex, "v=$(head -c 67108864 /dev/zero | tr '\\0' x); echo ${#v}", { req: { resources: { memoryBytes: 16 << 20 } } });
    if (warnings.length > 0) return t.skip(`limits not applied: ${warnings.join("; ")}`);
    assert.equal(r.signal, "SIGKILL", `expected an OOM kill, got ${JSON.stringify(r)}`);
    assert.equal(r.oomKilled, true, "the helper says the memory limit killed it");
  });

  test("a RUN within --memory is not reported as out of memory", async (t) => {
    const reason = memoryControllerMissing();
    if (reason) return t.skip(reason);
    const r = await runSh(createHelperExecutor(), "v=$(head -c 1048576 /dev/zero | tr '\\0' x); echo ${#v}", { req: { resources: { memoryBytes: 64 << 20 } } });
    assert.equal(r.stdout, "1048576\n");
    assert.equal(r.exitCode, 0);
    assert.equal(r.oomKilled, undefined);
  });

  test("a resource limit that cannot be applied warns and the RUN still runs", async () => {
    const warnings: string[] = [];
    const ex = createHelperExecutor({ onWarning: (m) => warnings.push(m) });
    const r = await runSh(ex, "echo ok", { req: { resources: { cpus: 0.5 } } });
    assert.equal(r.stdout, "ok\n");
    // either the limit applied (no warning) or the warning says why not
    for (const w of warnings) assert.match(w, /ignored/);
  });
});
