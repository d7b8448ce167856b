/**
 * Platform matching for pulls, after containerd's `platforms.Only`: names are normalised
 * (`x86_64` → amd64, `aarch64` → arm64, arm64 `v8` = no variant), and an arm host also runs older
 * arm variants (v7 runs v6 and v5), preferring the closest.
 */
import type { Descriptor, Platform } from "../image/types.js";

export interface PlatformSpec {
  os: string;
  architecture: string;
  variant?: string;
}

const ARCH_ALIASES: Record<string, { architecture: string; variant?: string }> = {
  x86_64: { architecture: "amd64" },
  "x86-64": { architecture: "amd64" },
  aarch64: { architecture: "arm64" },
  armhf: { architecture: "arm", variant: "v7" },
  armel: { architecture: "arm", variant: "v6" },
  i386: { architecture: "386" },
};

/** Canonical form: lowercase, aliases resolved, arm variants as `vN`, arm64 v8 and amd64 v1 dropped. */
export function normalizePlatform(p: PlatformSpec): PlatformSpec {
  let os = p.os.toLowerCase();
  if (os === "macos") os = "darwin";
  let architecture = p.architecture.toLowerCase();
  let variant = p.variant?.toLowerCase() || undefined;
  const alias = ARCH_ALIASES[architecture];
  if (alias) {
    architecture = alias.architecture;
    variant = variant ?? alias.variant;
  }
  if (variant && /^\d+$/.test(variant)) variant = `v${variant}`;
  if (architecture === "arm64" && variant === "v8") variant = undefined;
  if (architecture === "amd64" && variant === "v1") variant = undefined;
  if (architecture === "arm" && !variant) variant = "v7";
  return variant ? { os, architecture, variant } : { os, architecture };
}

/** The platform this process runs on, in OCI words. */
export function defaultPlatform(): PlatformSpec {
  const byNode: Record<string, PlatformSpec> = {
    x64: { os: "linux", architecture: "amd64" },
    arm64: { os: "linux", architecture: "arm64" },
    arm: { os: "linux", architecture: "arm", variant: "v7" },
    ia32: { os: "linux", architecture: "386" },
    ppc64: { os: "linux", architecture: "ppc64le" },
    s390x: { os: "linux", architecture: "s390x" },
    riscv64: { os: "linux", architecture: "riscv64" },
  };
  return byNode[process.arch] ?? { os: "linux", architecture: process.arch };
}

/** Parses `linux/arm64/v8`-style strings. */
export function parsePlatform(s: string): PlatformSpec {
  const [os = "", architecture = "", variant] = s.split("/");
  return normalizePlatform(variant ? { os, architecture, variant } : { os, architecture });
}

export function formatPlatformSpec(p: PlatformSpec): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/**
 * How well `have` serves `want`: 0 is exact, higher is a compatible older variant, undefined
 * means it does not run.
 */
export function platformRank(have: PlatformSpec, want: PlatformSpec): number | undefined {
  const h = normalizePlatform(have);
  const w = normalizePlatform(want);
  if (h.os !== w.os || h.architecture !== w.architecture) return undefined;
  if (h.variant === w.variant) return 0;
  const num = (v: string | undefined) => (v && /^v\d+$/.test(v) ? Number(v.slice(1)) : undefined);
  const hv = num(h.variant);
  const wv = num(w.variant);
  // arm v7 runs v6 and v5; amd64 v3 runs v2 and plain amd64.
  if ((w.architecture === "arm" || w.architecture === "amd64") && wv !== undefined) {
    const have = hv ?? (w.architecture === "amd64" && !h.variant ? 1 : undefined);
    if (have !== undefined && have < wv) return wv - have;
  }
  return undefined;
}

/** The index entry that best matches `want`; ties go to the first. Attestations never match. */
export function selectManifest(manifests: Descriptor[], want: PlatformSpec): Descriptor | undefined {
  let best: Descriptor | undefined;
  let bestRank = Infinity;
  for (const m of manifests) {
    if (!m.platform || m.annotations?.["vnd.docker.reference.type"] === "attestation-manifest") continue;
    const rank = platformRank(m.platform as Platform, want);
    if (rank !== undefined && rank < bestRank) [best, bestRank] = [m, rank];
  }
  return best;
}
