/** Whether this host lets the sandbox helper apply a memory limit, for tests of --memory. */
import { existsSync, readFileSync, statfsSync } from "node:fs";
import { join } from "node:path";

const CGROUP2_SUPER_MAGIC = 0x63677270;

/** Why this host cannot limit memory for a child cgroup (v2 with the memory controller, or v1's memory hierarchy), or undefined. */
export function memoryControllerMissing(): string | undefined {
  if (process.getuid?.() !== 0) return "cgroup limits need root";
  try {
    if (statfsSync("/sys/fs/cgroup").type !== CGROUP2_SUPER_MAGIC) {
      return existsSync("/sys/fs/cgroup/memory/memory.limit_in_bytes") ? undefined : "no cgroup v1 memory hierarchy at /sys/fs/cgroup/memory";
    }
    const self = /^0::(.*)$/m.exec(readFileSync("/proc/self/cgroup", "utf8"))?.[1] ?? "/";
    const controllers = readFileSync(join("/sys/fs/cgroup", self, "cgroup.controllers"), "utf8");
    return /\bmemory\b/.test(controllers) ? undefined : "the memory controller is not available to this cgroup";
  } catch {
    return "/sys/fs/cgroup is missing";
  }
}
