/**
 * The solver's contract. It runs a DAG of vertices and knows nothing of Dockerfiles: a vertex is
 * an id, a name for progress, its inputs, and three functions supplied by whoever built the graph.
 */
import type { SourceLocation } from "../errors/index.js";

export interface VertexContext {
  /** Aborted when the build is cancelled or another vertex failed. */
  signal: AbortSignal;
  /** Streams a line or chunk of the vertex's output to progress (1 stdout, 2 stderr). */
  log(stream: 1 | 2, data: Uint8Array | string): void;
  /** Reports a sub-status ("extracting sha256:…", bytes done / total). */
  status(id: string, current: number, total?: number, done?: boolean): void;
  warn(short: string, detail?: string[]): void;
}

/** What a cache lookup found, or why it found nothing. */
export type CacheLookup<R> = { hit: true; result: R } | { hit: false; reason?: string };

export interface Vertex<R> {
  /** Identity: equal ids are the same work and run once per solve. */
  id: string;
  /** Progress name, e.g. `[build 2/4] RUN make`. */
  name: string;
  inputs: string[];
  location?: SourceLocation;
  /** Hidden vertices do not appear in progress (pure bookkeeping steps). */
  hidden?: boolean;
  /**
   * Computes the cache key from the inputs' results and looks it up. Called once all inputs are
   * done; returning `hit: true` skips `exec`. Omit for vertices that always run.
   */
  lookup?(inputs: R[], ctx: VertexContext): Promise<CacheLookup<R>>;
  /** Does the work. Runs under the solver's parallelism limit. */
  exec(inputs: R[], ctx: VertexContext): Promise<R>;
}

export interface SolveOptions {
  /**
   * Maximum vertices executing at once; cache lookups are not limited. Default: the CPU count,
   * and one more for each CPU that sits idle while vertices wait (up to 4 × the CPU count).
   */
  parallelism?: number;
  signal?: AbortSignal;
  onProgress?: import("../progress/types.js").ProgressListener;
}
