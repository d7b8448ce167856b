import type { CacheKey } from "./cache-key.js";
import type { CacheRecord, StepInputs } from "./cache-index.js";

/**
 * Why a step missed the cache, in one line, by comparing its inputs with the record of the
 * previous build of the same step (see CacheIndex.lastForStep). Reports the first difference:
 * the parent first (a parent change explains everything below it), then the step's own inputs.
 * Pure.
 */
export function explainMiss(
  previous: CacheRecord | undefined,
  current: { inputs: StepInputs; parentKey: CacheKey | null },
  parentWasMiss: boolean,
): string {
  if (!previous) return "no previous build of this step";
  if (previous.step.parentKey !== current.parentKey) {
    return parentWasMiss ? "its parent changed" : "its parent changed (another cached parent was used)";
  }
  const was = previous.step.inputs;
  const now = current.inputs;
  return (
    changedCommand(was, now) ??
    changedEnv(was.env, now.env, "env changed") ??
    changedArg(was.args, now.args) ??
    changedSources(was, now) ??
    changedPath(was, now) ??
    changedOther(was.other, now.other) ??
    "inputs unchanged: the cached result was removed (pruned)"
  );
}

function changedCommand(was: StepInputs, now: StepInputs): string | undefined {
  if (was.command === now.command) return undefined;
  return `command changed: \`${was.command ?? ""}\` → \`${now.command ?? ""}\``;
}

function changedEnv(was: string[] = [], now: string[] = [], label: string): string | undefined {
  const a = envMap(was);
  const b = envMap(now);
  for (const name of sortedUnion(a.keys(), b.keys())) {
    const x = a.get(name);
    const y = b.get(name);
    if (x !== y) return `${label}: ${x ?? `${name} (unset)`} → ${y ?? `${name} (unset)`}`;
  }
  return undefined;
}

/** Build args are named, not shown: their values may be tokens. */
function changedArg(was: string[] = [], now: string[] = []): string | undefined {
  const a = envMap(was);
  const b = envMap(now);
  for (const name of sortedUnion(a.keys(), b.keys())) {
    if (a.get(name) !== b.get(name)) return `build arg changed: ${name}`;
  }
  return undefined;
}

function changedSources(was: StepInputs, now: StepInputs): string | undefined {
  const a = (was.sources ?? []).join(" ");
  const b = (now.sources ?? []).join(" ");
  return a === b ? undefined : `sources changed: \`${a}\` → \`${b}\``;
}

function changedPath(was: StepInputs, now: StepInputs): string | undefined {
  const a = was.paths ?? {};
  const b = now.paths ?? {};
  for (const path of sortedUnion(Object.keys(a), Object.keys(b))) {
    // A path past the recorded cap of either side is not known to be added or removed.
    if (!(path in a) && was.pathsTruncated) continue;
    if (!(path in b) && now.pathsTruncated) continue;
    if (!(path in a)) return `file added: ${path}`;
    if (!(path in b)) return `file removed: ${path}`;
    if (a[path] !== b[path]) return `file changed: ${path}`;
  }
  if (was.checksum !== undefined && was.checksum !== now.checksum) return "files changed (past the recorded paths)";
  return undefined;
}

function changedOther(was: Record<string, string> = {}, now: Record<string, string> = {}): string | undefined {
  for (const name of sortedUnion(Object.keys(was), Object.keys(now))) {
    if (was[name] !== now[name]) return `${name} changed: ${was[name] ?? "(none)"} → ${now[name] ?? "(none)"}`;
  }
  return undefined;
}

function envMap(list: string[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of list) {
    const eq = e.indexOf("=");
    m.set(eq < 0 ? e : e.slice(0, eq), e);
  }
  return m;
}

function sortedUnion(a: Iterable<string>, b: Iterable<string>): string[] {
  return [...new Set([...a, ...b])].sort((x, y) => (x < y ? -1 : x > y ? 1 : 0));
}
