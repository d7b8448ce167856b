import assert from "node:assert/strict";
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, realpathSync, rmSync, statSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { before, describe, test } from "node:test";
import { CancelledError } from "../errors/index.js";
import { HelperError } from "./errors.js";
import { createHelperExecutor } from "./helper-executor.js";
import { findHelper } from "./helper-path.js";
import { DEFAULT_SPEC, mountsUnder, overlayRoot, runSh, sandboxUnavailable, waitForNoProcesses } from "./sandbox-test-support.js";
import type { Executor } from "./types.js";

const skip = sandboxUnavailable();
const DOCKER_CAPS = [0, 1, 3, 4, 5, 6, 7, 8, 10, 13, 18, 27, 29, 31]; // CHOWN … SETFCAP, by number
const dockerCapMask = DOCKER_CAPS.reduce((m, c) => m | (1n << BigInt(c)), 0n);

function caps(status: string, name: string): bigint {
  const m = new RegExp(`^${name}:\\s*([0-9a-f]+)$`, "m").exec(status);
  assert.ok(m, `${name} in /proc/self/status`);
  return BigInt("0x" + m[1]);
}

describe("helper executor", { skip }, () => {
  let ex: Executor;
  before(() => {
    ex = createHelperExecutor();
  });

  test("PID 1 and the process table are the sandbox's own", async () => {
    const r = await runSh(ex, "echo $$; cat /proc/1/comm; ls /proc | grep -c '^[0-9]'");
    assert.equal(r.exitCode, 0, r.stderr);
    const [self, init, count] = r.stdout.trim().split("\n");
    assert.equal(init, "tsbuild-init");
    assert.equal(self, "2");
    assert.ok(Number(count) <= 4, `only the sandbox's few pids, saw ${count}`);
  });

  test("host files and hostname are not visible; the given hostname is", async () => {
    const sentinel = mkdtempSync(join(tmpdir(), "tsbuild-sentinel-"));
    try {
      const r = await runSh(ex, `test -e ${sentinel} && echo visible; hostname; cat /etc/hostname 2>/dev/null; true`, { spec: { hostname: "sbx-42" } });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(r.stdout.trim(), "sbx-42");
    } finally {
      rmSync(sentinel, { recursive: true });
    }
  });

  test("--network=none has only a working lo; default shares the host's interfaces", async () => {
    const none = await runSh(ex, "ls /sys/class/net; ping -c 1 -W 2 127.0.0.1 >/dev/null && echo lo-works");
    assert.equal(none.stdout.trim().split("\n").join(" "), "lo lo-works", none.stderr);
    const host = readdirSync("/sys/class/net").sort();
    const dflt = await runSh(ex, "ls /sys/class/net", { spec: { network: "default" } });
    assert.deepEqual(dflt.stdout.trim().split("\n").sort(), host);
  });

  test("capabilities are Docker's default set; a non-root user has none effective", async () => {
    const root = await runSh(ex, "cat /proc/self/status");
    assert.equal(caps(root.stdout, "CapEff"), dockerCapMask);
    assert.equal(caps(root.stdout, "CapPrm"), dockerCapMask);
    assert.equal(caps(root.stdout, "CapBnd"), dockerCapMask);
    assert.equal(caps(root.stdout, "CapAmb"), 0n);
    const app = await runSh(ex, "cat /proc/self/status", { spec: { user: "app" } });
    assert.equal(caps(app.stdout, "CapEff"), 0n);
    assert.equal(caps(app.stdout, "CapBnd"), dockerCapMask);
    assert.match(app.stdout, /^NoNewPrivs:\s*0$/m);
  });

  test("/dev has the usual character devices, usable by a non-root user", async () => {
    const script =
      "for d in null zero full random urandom tty; do [ -c /dev/$d ] && echo $d; done; " +
      "echo x > /dev/null && echo wrote; head -c 5 /dev/zero | wc -c; head -c 7 /dev/urandom | wc -c; echo x > /dev/full || echo full; ls /dev/pts/ptmx /dev/shm >/dev/null && echo pts";
    for (const user of ["root", "app"]) {
      const r = await runSh(ex, script, { spec: { user } });
      assert.equal(r.stdout, "null\nzero\nfull\nrandom\nurandom\ntty\nwrote\n5\n7\nfull\npts\n", `as ${user}: ${r.stderr}`);
    }
  });

  test("masked /proc paths read empty and /proc/sys is read-only", async () => {
    const masked = ["/proc/kcore", "/proc/keys", "/proc/timer_list"].filter((p) => existsSync(p));
    assert.ok(masked.length > 0);
    const r = await runSh(ex, `for f in ${masked.join(" ")}; do echo "$f $(wc -c < $f)"; done; ls /proc/acpi 2>/dev/null | wc -l; echo x > /proc/sys/kernel/hostname || echo ro`);
    const lines = r.stdout.trim().split("\n");
    for (const p of masked) assert.ok(lines.includes(`${p} 0`), `${p} masked: ${r.stdout}`);
    assert.equal(lines.at(-1), "ro");
    assert.match(r.stderr, /Read-only file system/);
  });

  test("writes land in the upper dir only", async () => {
    const o = overlayRoot();
    try {
      const r = await runSh(ex, "echo changed > /etc/passwd; echo new > /newfile", { root: o.root });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(readFileSync(join(o.upper, "etc/passwd"), "utf8"), "changed\n");
      assert.equal(readFileSync(join(o.upper, "newfile"), "utf8"), "new\n");
      assert.match(readFileSync(join(o.lower, "etc/passwd"), "utf8"), /^root:x:0:0/);
      assert.equal(existsSync(join(o.lower, "newfile")), false);
    } finally {
      o.cleanup();
    }
  });

  test("exit codes and signals come back exactly", async () => {
    assert.deepEqual(await runSh(ex, "exit 3").then((r) => [r.exitCode, r.signal]), [3, null]);
    assert.deepEqual(await runSh(ex, "kill -TERM $$").then((r) => [r.exitCode, r.signal]), [null, "SIGTERM"]);
  });

  test("a missing command is a clear error", async () => {
    await assert.rejects(runSh(ex, undefined, { spec: { args: ["nosuchcmd", "x"] } }), (e: unknown) => {
      assert.ok(e instanceof HelperError);
      assert.equal(e.code, "exec/command-not-found");
      assert.equal(e.message, 'exec: "nosuchcmd": executable file not found in $PATH');
      return true;
    });
  });

  test("USER by name, number, name:group and uid:gid", async () => {
    const id = async (user: string) => (await runSh(ex, "id; echo $HOME", { spec: { user } })).stdout.trim();
    assert.equal(await id("app"), "uid=1000(app) gid=1000(app) groups=50(staff)\n/home/app");
    assert.equal(await id("1000"), "uid=1000(app) gid=1000(app) groups=50(staff)\n/home/app");
    // an explicit group drops the supplementary groups, as in runc/Docker
    assert.equal(await id("app:staff"), "uid=1000(app) gid=50(staff)\n/home/app");
    assert.equal(await id("4242:777"), "uid=4242 gid=777\n/");
    assert.equal(await id("root"), "uid=0(root) gid=0(root)\n/root");
    await assert.rejects(runSh(ex, "id", { spec: { user: "ghost" } }), /unable to find user ghost: no matching entries in passwd file/);
    await assert.rejects(runSh(ex, "id", { spec: { user: "app:ghosts" } }), /unable to find group ghosts: no matching entries in group file/);
  });

  test("env, cwd (created, root-owned), stdin and /etc/hosts", async () => {
    const o = overlayRoot();
    try {
      const r = await runSh(ex, "pwd; echo $FOO; cat; grep -v '^#' /etc/hosts", {
        root: o.root,
        spec: { cwd: "/work/dir", env: ["PATH=/bin", "FOO=bar baz"], user: "app" },
        stdin: Buffer.from("from-stdin\n"),
        req: { extraHosts: ["10.1.2.3\tregistry.test"] },
      });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(
        r.stdout,
        "/work/dir\nbar baz\nfrom-stdin\n127.0.0.1\tlocalhost tsbuild-test\n::1\tlocalhost ip6-localhost ip6-loopback\n10.1.2.3\tregistry.test\n",
      );
      assert.equal(statSync(join(o.upper, "work/dir")).uid, 0);
    } finally {
      o.cleanup();
    }
  });

  test("resolv.conf has no loopback nameservers", async () => {
    const r = await runSh(ex, "cat /etc/resolv.conf", { spec: { network: "default" } });
    assert.match(r.stdout, /^nameserver /m);
    assert.doesNotMatch(r.stdout, /^nameserver\s+(127\.|::1)/m);
  });

  test("extra mounts: read-only bind dir, bind file, sized tmpfs", async () => {
    const host = mkdtempSync(join(tmpdir(), "tsbuild-mountsrc-"));
    try {
      mkdirSync(join(host, "dir"));
      writeFileSync(join(host, "dir", "a.txt"), "A\n");
      writeFileSync(join(host, "secret"), "s3cret\n");
      const r = await runSh(ex, "cat /src/a.txt; touch /src/b 2>/dev/null || echo ro; cat /run/secrets/token; df -k /cache | tail -1", {
        req: {
          mounts: [
            { type: "bind", source: join(host, "dir"), target: "/src", options: ["rbind", "ro"] },
            { type: "bind", source: join(host, "secret"), target: "/run/secrets/token", options: ["bind", "ro"] },
            { type: "tmpfs", source: "tmpfs", target: "/cache", options: ["size=1024k", "mode=1777"] },
          ],
        },
      });
      assert.equal(r.exitCode, 0, r.stderr);
      const [a, ro, secret, df] = r.stdout.split("\n");
      assert.deepEqual([a, ro, secret], ["A", "ro", "s3cret"]);
      assert.equal(df?.trim().split(/\s+/)[1], "1024");
      assert.equal(existsSync(join(host, "dir", "b")), false);
    } finally {
      rmSync(host, { recursive: true });
    }
  });

  test("mount targets the sandbox had to create do not stay in the upper dir", async () => {
    const o = overlayRoot();
    const host = mkdtempSync(join(tmpdir(), "tsbuild-mountsrc-"));
    try {
      writeFileSync(join(host, "token"), "t\n");
      const r = await runSh(ex, "cat /run/secrets/token /etc/hosts >/dev/null && echo kept > /kept", {
        root: o.root,
        req: { mounts: [{ type: "bind", source: join(host, "token"), target: "/run/secrets/token", options: ["bind", "ro"] }] },
      });
      assert.equal(r.exitCode, 0, r.stderr);
      assert.equal(existsSync(join(o.lower, "etc/hosts")), false, "the image has no /etc/hosts");
      assert.equal(existsSync(join(o.upper, "kept")), true);
      assert.equal(existsSync(join(o.upper, "etc/hosts")), false);
      assert.equal(existsSync(join(o.upper, "etc/resolv.conf")), false);
      assert.equal(existsSync(join(o.upper, "run")), false);
    } finally {
      o.cleanup();
      rmSync(host, { recursive: true });
    }
  });

  test("concurrent runs keep their own output and exit codes; a short run ends while a long one runs", async () => {
    const o = overlayRoot();
    const ac = new AbortController();
    let started!: () => void;
    const ready = new Promise<void>((r) => (started = r));
    const long = ex.run(
      { root: o.root, mounts: [], spec: { ...DEFAULT_SPEC, args: ["sh", "-c", "echo ready; sleep 60"] } },
      { stdout: (c) => c.toString().includes("ready") && started() },
      ac.signal,
    );
    try {
      await ready;
      const results = await Promise.all([1, 2, 3, 4].map((i) => runSh(ex, `echo out${i}; echo err${i} >&2; exit ${i}`)));
      results.forEach((r, k) => {
        assert.equal(r.stdout, `out${k + 1}\n`);
        assert.equal(r.stderr, `err${k + 1}\n`);
        assert.equal(r.exitCode, k + 1);
      });
    } finally {
      ac.abort();
      await assert.rejects(long, CancelledError);
      o.cleanup();
    }
  });

  test("close() lets the helper kept between runs exit; a later run starts a new one", async () => {
    const others = helperChildren(); // the shared executor's
    const own = createHelperExecutor();
    assert.equal((await runSh(own, "echo one")).stdout, "one\n");
    assert.equal(helperChildren().filter((p) => !others.includes(p)).length, 1, "one helper kept between runs");
    await own.close!();
    assert.deepEqual(helperChildren(), others, "no helper of its own left after close");
    assert.equal((await runSh(own, "echo two")).stdout, "two\n");
    await own.close!();
    assert.deepEqual(helperChildren(), others);
  });

  test("a run in flight at close() still ends normally or by abort; the helper exits after it", async () => {
    const others = helperChildren();
    const own = createHelperExecutor();
    const marker = `tsbuild-close-${process.pid}-${Date.now()}`;
    const ac = new AbortController();
    let started!: () => void;
    const ready = new Promise<void>((r) => (started = r));
    const o = overlayRoot();
    try {
      const long = own.run(
        { root: o.root, mounts: [], spec: { ...DEFAULT_SPEC, args: ["sh", "-c", "echo ready; sleep 60", marker] } },
        { stdout: (c) => c.toString().includes("ready") && started() },
        ac.signal,
      );
      await ready;
      await own.close!(); // returns at once: a run is in flight
      ac.abort();
      await assert.rejects(long, CancelledError);
      assert.deepEqual(await waitForNoProcesses(marker), [], "the aborted sandbox is gone");
      for (let i = 0; i < 100 && helperChildren().length > others.length; i++) await new Promise((r) => setTimeout(r, 20));
      assert.deepEqual(helperChildren(), others, "the closed helper exited after its last run");
    } finally {
      o.cleanup();
    }
  });

  test("abort mid-RUN kills the sandbox and leaves no mounts", async () => {
    const o = overlayRoot();
    const marker = `tsbuild-abort-${process.pid}-${Date.now()}`;
    try {
      const ac = new AbortController();
      const run = ex.run(
        { root: o.root, mounts: [], spec: { ...DEFAULT_SPEC, args: ["sh", "-c", "echo ready; sleep 60", marker], env: [`MARK=${marker}`] } },
        { stdout: (c) => c.toString().includes("ready") && ac.abort() }, // abort once the command runs
        ac.signal,
      );
      await assert.rejects(run, CancelledError);
      assert.deepEqual(await waitForNoProcesses(marker), [], "no sandbox process survives");
      assert.deepEqual(mountsUnder(o.dir), []);
    } finally {
      o.cleanup();
    }
  });
});

/** Pids of this process's children running the sandbox helper binary. */
function helperChildren(): number[] {
  const helper = realpathSync(findHelper());
  return readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/stat`, "utf8").split(") ")[1]!.split(" ")[1] === String(process.pid) && readlinkSync(`/proc/${p}/exe`) === helper;
      } catch {
        return false;
      }
    })
    .map(Number);
}
