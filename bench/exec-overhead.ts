/**
 * Per-RUN sandbox overhead: N sequential runs of `true` (namespaces, overlay root, /proc, /dev,
 * /sys, pivot_root, exec, teardown), each with a fresh upper dir over a busybox rootfs.
 * Usage (root): [NETWORK=none|default] node --import tsx bench/exec-overhead.ts [N=200]
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createHelperExecutor } from "../src/exec/helper-executor.js";
import { sharedBusyboxRootfs } from "../test/support/rootfs.js";

const n = Number(process.argv[2] ?? 200);
const network = (process.env.NETWORK ?? "none") as "none" | "default";
const lower = sharedBusyboxRootfs();
const executor = createHelperExecutor();
const dir = mkdtempSync(join(tmpdir(), "tsbuild-bench-exec-"));
const times: number[] = [];
try {
  for (let i = 0; i < n; i++) {
    const run = join(dir, String(i));
    mkdirSync(join(run, "upper"), { recursive: true });
    mkdirSync(join(run, "work"));
    const t0 = process.hrtime.bigint();
    const r = await executor.run(
      {
        root: { type: "overlay", source: "overlay", target: "/", options: [`lowerdir=${lower}`, "upperdir=upper", "workdir=work"], cwd: run },
        mounts: [],
        spec: { args: ["true"], env: ["PATH=/bin"], cwd: "/", user: "root", hostname: "bench", network },
      },
      {},
    );
    times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    if (r.exitCode !== 0) throw new Error(`run ${i} failed: ${JSON.stringify(r)}`);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
times.sort((a, b) => a - b);
const pick = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))]!.toFixed(2);
console.log(`exec-overhead: ${n} sequential RUNs of true (network ${network}): median ${pick(0.5)} ms, p90 ${pick(0.9)} ms, min ${times[0]!.toFixed(2)} ms`);
