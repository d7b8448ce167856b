export type { PreparedSnapshot, PrepareOptions, SnapshotDriver, SnapshotInfo, SnapshotKind, Snapshotter, SnapshotterOptions } from "./types.js";
export { createSnapshotter } from "./snapshotter.js";
export { SnapshotError, type SnapshotErrorClass } from "./errors.js";
export { overlaySupported } from "./probe.js";
