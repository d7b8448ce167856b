export type { RunMounts, RunMountSpec, RunMountsOptions, SecretStore } from "./types.js";
export { prepareRunMounts } from "./prepare.js";
export { cleanupMountStubs, mountStubPaths, SANDBOX_MOUNT_POINTS, type LayerLookups } from "./stubs.js";
export { RunMountError } from "./errors.js";
export { lockFile, type FileLock } from "./flock.js";
