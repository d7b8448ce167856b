export type { PreparedSnapshot, SnapshotDriver, SnapshotInfo, SnapshotKind, Snapshotter, SnapshotterOptions } from "./types.js";
export { createSnapshotter } from "./snapshotter.js";
export { SnapshotError, type SnapshotErrorClass } from "./errors.js";
export { overlaySupported } from "./probe.js";
