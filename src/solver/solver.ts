import { availableParallelism } from "node:os";
import { CancelledError, TsbuildError } from "../errors/index.js";
import { emptyStatus, type SolveStatus, type VertexUpdate } from "../progress/types.js";
import type { SolveOptions, Vertex, VertexContext } from "./types.js";
import { idleCpusFrom } from "./idle-cpus.js";
import { fixedLimiter, idleAwareLimiter, type StepLimiter } from "./step-limiter.js";

/** A vertex failed; carries the vertex so callers can point at its Dockerfile location. */
export class SolveError extends TsbuildError {
  readonly vertexId: string;
  readonly vertexName: string;
  constructor(vertex: { id: string; name: string }, cause: unknown) {
    const msg = cause instanceof Error ? cause.message : String(cause);
    super(cause instanceof TsbuildError ? cause.code : "solve/failed", msg, { cause });
    this.vertexId = vertex.id;
    this.vertexName = vertex.name;
  }
}

/**
 * Runs the vertices the targets need, inputs first, independent ones in parallel (up to
 * `parallelism` executing at once; by default the CPU count, and more while CPUs sit idle).
 * Equal ids run once. The first failure aborts the rest and is what this rejects with (as a
 * SolveError); a cancelled solve rejects with CancelledError.
 * Resolves to every needed vertex's result, by id.
 */
export async function solve<R>(vertices: Vertex<R>[], targets: string[], opts: SolveOptions = {}): Promise<Map<string, R>> {
  const byId = new Map<string, Vertex<R>>();
  for (const v of vertices) if (!byId.has(v.id)) byId.set(v.id, v);
  const needed = neededVertices(byId, targets);

  const abort = new AbortController();
  const onOuterAbort = () => abort.abort(new CancelledError());
  if (opts.signal?.aborted) onOuterAbort();
  opts.signal?.addEventListener("abort", onOuterAbort, { once: true });

  const limiter = stepLimiter(opts);
  const emit = opts.onProgress ?? (() => {});
  const running = new Map<string, Promise<R>>();
  let firstError: unknown;

  const vertexUpdate = (v: Vertex<R>, patch: Partial<VertexUpdate>): void => {
    if (v.hidden) return;
    const status = emptyStatus();
    status.vertexes.push({ digest: v.id, inputs: v.inputs, name: v.name, ...(v.location ? { location: v.location } : {}), ...patch });
    emit(status);
  };

  const contextFor = (v: Vertex<R>): VertexContext => ({
    signal: abort.signal,
    log(stream, data) {
      if (v.hidden) return;
      const status: SolveStatus = emptyStatus();
      status.logs.push({ vertex: v.id, stream, data: typeof data === "string" ? Buffer.from(data) : data, timestamp: now() });
      emit(status);
    },
    status(id, current, total, done) {
      if (v.hidden) return;
      const status = emptyStatus();
      const t = now();
      status.statuses.push({ id, vertex: v.id, current, timestamp: t, ...(total !== undefined ? { total } : {}), ...(done ? { completed: t } : {}) });
      emit(status);
    },
    warn(short, detail) {
      const status = emptyStatus();
      status.warnings.push({ vertex: v.id, level: 1, short, ...(detail ? { detail } : {}) });
      emit(status);
    },
  });

  const fail = (v: Vertex<R>, err: unknown, started: string | undefined): never => {
    const cancelled = abort.signal.aborted && (err instanceof CancelledError || isAbortError(err));
    if (!cancelled && firstError === undefined) {
      firstError = err instanceof SolveError ? err : new SolveError(v, err);
      abort.abort(firstError);
    }
    vertexUpdate(v, { ...(started ? { started } : {}), completed: now(), error: cancelled ? "context canceled" : errorText(err) });
    throw err;
  };

  const runVertex = (id: string): Promise<R> => {
    let p = running.get(id);
    if (p) return p;
    const v = byId.get(id)!;
    p = (async () => {
      const inputs = await Promise.all(v.inputs.map(runVertex));
      if (abort.signal.aborted) throw new CancelledError();
      const ctx = contextFor(v);
      let started: string | undefined;
      try {
        let missReason: string | undefined;
        if (v.lookup) {
          const found = await v.lookup(inputs, ctx);
          if (found.hit) {
            const t = now();
            vertexUpdate(v, { started: t, completed: t, cached: true });
            return found.result;
          }
          missReason = found.reason;
        }
        return await limiter.run(async () => {
          if (abort.signal.aborted) throw new CancelledError();
          started = now();
          vertexUpdate(v, { started, ...(missReason ? { cacheMiss: missReason } : {}) });
          const result = await v.exec(inputs, ctx);
          vertexUpdate(v, { started: started!, completed: now() });
          return result;
        });
      } catch (err) {
        return fail(v, err, started);
      }
    })();
    p.catch(() => {}); // observed through the targets' promises
    running.set(id, p);
    return p;
  };

  try {
    // Start every needed vertex so independent branches run even if a target fails early.
    for (const id of needed) void runVertex(id);
    await Promise.allSettled([...needed].map((id) => running.get(id)!));
    if (firstError !== undefined) throw firstError;
    if (abort.signal.aborted) throw abort.signal.reason instanceof Error ? abort.signal.reason : new CancelledError();
    const results = new Map<string, R>();
    for (const id of needed) results.set(id, await running.get(id)!);
    return results;
  } finally {
    limiter.close();
    opts.signal?.removeEventListener("abort", onOuterAbort);
  }
}

function stepLimiter(opts: SolveOptions): StepLimiter {
  if (opts.parallelism !== undefined) return fixedLimiter(opts.parallelism);
  return idleAwareLimiter({ base: availableParallelism(), idleCpus: idleCpusFrom() });
}

/** The targets and everything they depend on; rejects unknown inputs and cycles. */
function neededVertices<R>(byId: Map<string, Vertex<R>>, targets: string[]): Set<string> {
  const needed = new Set<string>();
  const visiting = new Set<string>();
  const visit = (id: string, from?: string): void => {
    if (needed.has(id)) return;
    if (visiting.has(id)) throw new TsbuildError("solve/cycle", `dependency cycle through ${byId.get(id)?.name ?? id}`);
    const v = byId.get(id);
    if (!v) throw new TsbuildError("solve/unknown-input", `vertex ${from ?? "(target)"} depends on unknown vertex ${id}`);
    visiting.add(id);
    for (const input of v.inputs) visit(input, v.name);
    visiting.delete(id);
    needed.add(id);
  };
  for (const t of targets) visit(t);
  return needed;
}

function now(): string {
  return new Date().toISOString();
}

function isAbortError(err: unknown): boolean {
  return err instanceof Error && (err.name === "AbortError" || (err as NodeJS.ErrnoException).code === "ABORT_ERR");
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
