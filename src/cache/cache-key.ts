import { canonicalJson } from "../internal/canonical-json.js";
import { blake3Hex } from "./hash.js";

/**
 * The version of the cache-key format. Any change to what goes into a key, or how, must bump it
 * (and the pinned values in cache-key.test.ts), so old records are never matched by accident.
 */
export const CACHE_KEY_VERSION = 1;

/** A cache key: 64 lowercase hex digits of BLAKE3. */
export type CacheKey = string;

export interface KeyPlatform {
  os: string;
  architecture: string;
  variant?: string;
}

/**
 * A mount of a RUN step as it affects the result. Secrets and SSH sockets are described by id
 * and target only, never by their values; `fromKey` is the cache key of a bind-mounted stage or
 * image (null: the build context, whose content then comes in through `contentChecksum`).
 */
export type MountDescription =
  | {
      type: "bind";
      target: string;
      fromKey: CacheKey | null;
      /** Path inside the source (BuildKit's selector); "" or "/" for its root. */
      source: string;
      readonly: boolean;
      /** Content checksum of the mounted path, when it comes from the context. */
      contentChecksum?: string;
    }
  | {
      type: "cache";
      target: string;
      id: string;
      sharing: "shared" | "private" | "locked";
      readonly: boolean;
      fromKey?: CacheKey | null;
      source?: string;
      mode?: number;
      uid?: number;
      gid?: number;
    }
  | { type: "tmpfs"; target: string; size?: number }
  | { type: "secret"; target: string; id: string; required: boolean; mode?: number; uid?: number; gid?: number }
  | { type: "ssh"; target: string; id: string; required: boolean; mode?: number; uid?: number; gid?: number };

/** A COPY/ADD source: where it comes from and the content checksum of exactly the files selected. */
export interface CopySource {
  /** Cache key of the stage/image copied from; null for the build context. */
  fromKey: CacheKey | null;
  /** The source paths or patterns as written (after variable expansion). */
  paths: string[];
  /** Content checksum (see context-checksum.ts) of exactly the selected files. */
  checksum: string;
}

/**
 * One step as resolved (variables expanded, base images pinned), tagged on `kind`.
 *
 * Meta instructions (ENV, LABEL, USER, WORKDIR without a new dir, CMD, EXPOSE, …) do not make a
 * layer and have no key of their own in the layer chain. What they change that can affect a
 * filesystem result (env, user, workdir, shell) is written into the next RUN/COPY description as
 * resolved values, so only real inputs invalidate layers (as in BuildKit: a new LABEL does not
 * invalidate later RUN steps). The image config as a whole is keyed by a final `meta` step whose
 * parent is the last layer key — that key identifies the finished image, not a layer.
 */
export type StepDescription =
  | {
      kind: "base";
      /** The reference as written; NOT part of the key, so re-tagged identical images hit. */
      ref: string;
      /** The manifest digest; null for `scratch`. */
      digest: string | null;
      platform: KeyPlatform;
    }
  | {
      kind: "run";
      args: string[];
      /** `NAME=value` entries (ENV plus build args in scope); duplicates resolved last-wins. */
      env: string[];
      user: string;
      workdir: string;
      network: "default" | "none" | "host";
      security?: "sandbox" | "insecure";
      mounts: MountDescription[];
      /** Keys of further inputs (bind-mounted stages/images) not named by a mount. */
      inputs?: { key: CacheKey }[];
    }
  | {
      kind: "copy";
      isAdd: boolean;
      dest: string;
      workdir: string;
      chown?: string;
      chmod?: string;
      link: boolean;
      parents: boolean;
      exclude: string[];
      /** ADD only: unpack local archives (default true) and checksum of remote sources. */
      unpack?: boolean;
      sources: CopySource[];
    }
  | { kind: "workdir"; path: string; user: string }
  | {
      kind: "meta";
      /** The image config that results (canonical JSON is taken, so key order does not matter). */
      config: Record<string, unknown>;
    }
  | {
      kind: "merge";
      /** Keys of the layers merged, bottom first (COPY --link results merged onto a base). */
      inputs: CacheKey[];
    };

/**
 * The cache key of a step: BLAKE3 over the canonical JSON of the key version, the parent's key
 * and the canonical step description. Pure; never sees mtimes, inode numbers or host paths.
 */
export function computeCacheKey(input: { parent: CacheKey | null; step: StepDescription }): CacheKey {
  return blake3Hex(
    canonicalJson({ v: CACHE_KEY_VERSION, parent: input.parent, step: canonicalStep(input.step) }),
  );
}

/** The step as it enters the key: sets that do not depend on order are sorted, noise dropped. */
export function canonicalStep(step: StepDescription): unknown {
  switch (step.kind) {
    case "base":
      return { kind: step.kind, digest: step.digest, platform: step.platform };
    case "run":
      return {
        ...step,
        env: canonicalEnv(step.env),
        security: step.security ?? "sandbox",
        mounts: [...step.mounts].sort((a, b) => compare(a.target, b.target)),
        inputs: [...(step.inputs ?? [])].map((i) => i.key).sort(),
      };
    case "copy":
      return { ...step, exclude: [...step.exclude].sort(), unpack: step.isAdd ? (step.unpack ?? true) : undefined };
    case "meta":
    case "workdir":
    case "merge":
      return step;
  }
}

/**
 * Environment as a process sees it: for duplicate names the last value wins (as BuildKit's env
 * list replaces in place), and the result is sorted by name since order then cannot matter.
 */
export function canonicalEnv(env: string[]): string[] {
  const byName = new Map<string, string>();
  for (const e of env) {
    const eq = e.indexOf("=");
    byName.set(eq < 0 ? e : e.slice(0, eq), e);
  }
  return [...byName.keys()].sort(compare).map((k) => byName.get(k)!);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
