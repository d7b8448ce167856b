/**
 * Progress is data: the shape of BuildKit's SolveStatus (client/graph.go), so `--progress=rawjson`
 * output can be read by tools written for BuildKit. One event may carry several updates.
 * tsbuild adds `cacheMiss` to a vertex: why its cache lookup missed.
 */
import type { SourceLocation } from "../errors/index.js";

export interface VertexUpdate {
  digest: string;
  inputs: string[];
  name: string;
  /** RFC 3339 timestamps. */
  started?: string;
  completed?: string;
  cached?: boolean;
  error?: string;
  /** tsbuild: the reason the cache lookup missed, in one line ("file changed: app/main.go"). */
  cacheMiss?: string;
  /** tsbuild: where in the Dockerfile this vertex comes from. */
  location?: SourceLocation;
}

export interface StatusUpdate {
  id: string;
  vertex: string;
  name?: string;
  total?: number;
  current: number;
  timestamp: string;
  started?: string;
  completed?: string;
}

export interface LogUpdate {
  vertex: string;
  /** 1 stdout, 2 stderr. */
  stream: 1 | 2;
  /** The raw bytes; rawjson encodes them as base64 like BuildKit. */
  data: Uint8Array;
  timestamp: string;
}

export interface WarningUpdate {
  vertex: string;
  level: number;
  short: string;
  detail?: string[];
  url?: string;
  location?: SourceLocation;
}

export interface SolveStatus {
  vertexes: VertexUpdate[];
  statuses: StatusUpdate[];
  logs: LogUpdate[];
  warnings: WarningUpdate[];
}

export type ProgressListener = (status: SolveStatus) => void;

export function emptyStatus(): SolveStatus {
  return { vertexes: [], statuses: [], logs: [], warnings: [] };
}

/** SolveStatus as BuildKit's rawjson prints it: one JSON object, log data in base64. */
export function solveStatusToJson(s: SolveStatus): string {
  return JSON.stringify({
    vertexes: s.vertexes.length ? s.vertexes : undefined,
    statuses: s.statuses.length ? s.statuses : undefined,
    logs: s.logs.length
      ? s.logs.map((l) => ({ ...l, data: Buffer.from(l.data).toString("base64") }))
      : undefined,
    warnings: s.warnings.length ? s.warnings : undefined,
  });
}
