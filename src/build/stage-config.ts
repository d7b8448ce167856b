/**
 * How metadata instructions change a stage's image config, as BuildKit's dispatchers do. Pure:
 * the caller passes values already variable-expanded (per the Dockerfile rules of which
 * instructions expand) and gets a new config with the history entry BuildKit would record.
 */
import { posix } from "node:path";
import { addHistory, withConfig } from "../image/config.js";
import type { ContainerConfig, HealthConfig, ImageConfig } from "../image/types.js";

export const DEFAULT_SHELL = ["/bin/sh", "-c"];

/** `KEY=value` list with `key` replaced or appended, keeping order (Docker's Env semantics). */
export function setEnv(env: readonly string[], key: string, value: string): string[] {
  const out = env.filter((e) => e.slice(0, e.indexOf("=") === -1 ? e.length : e.indexOf("=")) !== key);
  const at = env.findIndex((e) => e.startsWith(key + "="));
  const entry = `${key}=${value}`;
  if (at === -1) return [...out, entry];
  out.splice(at, 0, entry);
  return out;
}

export function getEnv(env: readonly string[] | undefined, key: string): string | undefined {
  const e = env?.find((x) => x.startsWith(key + "="));
  return e === undefined ? undefined : e.slice(key.length + 1);
}

/** Go's %q rendering of a string slice, used in BuildKit's history text (`CMD ["sh" "-c" "x"]`). */
export function goStringSlice(args: readonly string[]): string {
  return "[" + args.map((a) => JSON.stringify(a)).join(" ") + "]";
}

/** The argv a command line runs with: the shell form goes through SHELL. */
export function commandArgs(cmd: { args: string[]; prependShell: boolean }, shell: readonly string[]): string[] {
  return cmd.prependShell ? [...shell, cmd.args.join(" ")] : [...cmd.args];
}

export type MetaChange =
  | { kind: "env"; pairs: { key: string; value: string }[] }
  | { kind: "label"; pairs: { key: string; value: string }[] }
  | { kind: "expose"; ports: string[] }
  | { kind: "volume"; paths: string[] }
  | { kind: "user"; user: string }
  | { kind: "workdir"; path: string }
  | { kind: "stopsignal"; signal: string }
  | { kind: "cmd" | "entrypoint"; args: string[] }
  | { kind: "shell"; shell: string[] }
  | { kind: "healthcheck"; health: HealthConfig }
  | { kind: "onbuild"; expression: string }
  | { kind: "maintainer"; author: string };

/** Applies one metadata change and records its history entry (`empty_layer`). */
export function applyMeta(cfg: ImageConfig, change: MetaChange, opts: { cmdSetInStage: boolean }): ImageConfig {
  const c = cfg.config;
  const [patch, createdBy] = metaPatch(c, change, opts);
  const next = change.kind === "maintainer" ? { ...withConfig(cfg, patch), author: change.author } : withConfig(cfg, patch);
  return addHistory(next, { created_by: createdBy, comment: "buildkit.dockerfile.v0" }, { emptyLayer: true });
}

function metaPatch(c: ContainerConfig, change: MetaChange, opts: { cmdSetInStage: boolean }): [Partial<ContainerConfig> & Record<string, unknown>, string] {
  switch (change.kind) {
    case "env": {
      let env = c.Env ?? [];
      for (const p of change.pairs) env = setEnv(env, p.key, p.value);
      return [{ Env: env }, "ENV " + change.pairs.map((p) => `${p.key}=${p.value}`).join(" ")];
    }
    case "label": {
      const labels = { ...(c.Labels ?? {}) };
      for (const p of change.pairs) labels[p.key] = p.value;
      return [{ Labels: labels }, "LABEL " + change.pairs.map((p) => `${p.key}=${p.value}`).join(" ")];
    }
    case "expose": {
      const ports = { ...(c.ExposedPorts ?? {}) };
      for (const p of change.ports) ports[p.includes("/") ? p.toLowerCase() : `${p}/tcp`] = {};
      return [{ ExposedPorts: ports }, `EXPOSE map[${Object.keys(ports).sort().map((k) => `${k}:{}`).join(" ")}]`];
    }
    case "volume": {
      const vols = { ...(c.Volumes ?? {}) };
      for (const p of change.paths) vols[p] = {};
      return [{ Volumes: vols }, `VOLUME ${goStringSlice(change.paths)}`];
    }
    case "user":
      return [{ User: change.user }, `USER ${change.user}`];
    case "workdir": {
      const wd = posix.resolve(c.WorkingDir || "/", change.path);
      return [{ WorkingDir: wd }, `WORKDIR ${wd}`];
    }
    case "stopsignal":
      return [{ StopSignal: change.signal }, `STOPSIGNAL ${change.signal}`];
    case "cmd":
      return [{ Cmd: change.args }, `CMD ${goStringSlice(change.args)}`];
    case "entrypoint":
      // An ENTRYPOINT resets a CMD inherited from the base image, as docker build does.
      return [opts.cmdSetInStage ? { Entrypoint: change.args } : { Entrypoint: change.args, Cmd: undefined }, `ENTRYPOINT ${goStringSlice(change.args)}`];
    case "shell":
      return [{ Shell: change.shell }, `SHELL ${goStringSlice(change.shell)}`];
    case "healthcheck":
      return [{ Healthcheck: change.health }, `HEALTHCHECK &{${goStringSlice(change.health.Test ?? [])} ${fmtDur(change.health.Interval)} ${fmtDur(change.health.Timeout)} ${fmtDur(change.health.StartPeriod)} ${fmtDur(change.health.StartInterval)} ${change.health.Retries ?? 0}}`];
    case "onbuild":
      return [{ OnBuild: [...(c.OnBuild ?? []), change.expression] }, `ONBUILD ${change.expression}`];
    case "maintainer":
      return [{}, `MAINTAINER ${change.author}`];
  }
}

/** Go's time.Duration String for nanoseconds, enough for history text ("30s", "1m30s", "0s"). */
function fmtDur(ns: number | undefined): string {
  if (!ns) return "0s";
  let s = ns / 1e9;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${h ? h + "h" : ""}${h || m ? m + "m" : ""}${+s.toFixed(9)}s`;
}
