/**
 * Progress for the parts of a build that are not solver vertices (loading the Dockerfile,
 * resolving base images, exporting), in the same SolveStatus shape, so renderers see one stream.
 */
import { randomHex } from "../internal/random-hex.js";
import { emptyStatus, type ProgressListener, type SolveStatus } from "../progress/types.js";

export interface InternalStepContext {
  status(id: string, current: number, total?: number, done?: boolean): void;
}

export class ProgressReporter {
  constructor(private readonly listener: ProgressListener | undefined) {}

  forward(status: SolveStatus): void {
    this.listener?.(status);
  }

  /** Runs `fn` as a named step: started, then done or error, like a vertex. */
  async internal<T>(name: string, fn: (ctx: InternalStepContext) => Promise<T>): Promise<T> {
    const digest = `internal:${randomHex(8)}`;
    const started = new Date().toISOString();
    const emit = (patch: Partial<SolveStatus["vertexes"][number]>) => {
      const s = emptyStatus();
      s.vertexes.push({ digest, inputs: [], name, started, ...patch });
      this.listener?.(s);
    };
    emit({});
    const ctx: InternalStepContext = {
      status: (id, current, total, done) => {
        const s = emptyStatus();
        const t = new Date().toISOString();
        s.statuses.push({ id, vertex: digest, current, timestamp: t, ...(total !== undefined ? { total } : {}), ...(done ? { completed: t } : {}) });
        this.listener?.(s);
      },
    };
    try {
      const result = await fn(ctx);
      emit({ completed: new Date().toISOString() });
      return result;
    } catch (err) {
      emit({ completed: new Date().toISOString(), error: err instanceof Error ? err.message : String(err) });
      throw err;
    }
  }
}
