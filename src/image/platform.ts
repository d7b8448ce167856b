/** Platforms: the host's, and picking the matching manifest out of an index. */
import { arch } from "node:process";
import type { Descriptor, Platform } from "./types.js";

const NODE_TO_OCI_ARCH: Record<string, { architecture: string; variant?: string }> = {
  x64: { architecture: "amd64" },
  arm64: { architecture: "arm64" },
  arm: { architecture: "arm", variant: "v7" },
  ia32: { architecture: "386" },
  ppc64: { architecture: "ppc64le" },
  s390x: { architecture: "s390x" },
  riscv64: { architecture: "riscv64" },
};

/** The platform of this machine, in OCI words (`linux/amd64`). */
export function hostPlatform(): Platform {
  const a = NODE_TO_OCI_ARCH[arch] ?? { architecture: arch };
  return a.variant ? { os: "linux", architecture: a.architecture, variant: a.variant } : { os: "linux", architecture: a.architecture };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/** True when an image for `have` runs on `want` (arm64 v8 equals no variant). */
export function platformMatches(have: Platform | undefined, want: Platform): boolean {
  if (!have) return false;
  if (have.os !== want.os || have.architecture !== want.architecture) return false;
  const norm = (p: Platform) => (p.architecture === "arm64" && p.variant === "v8" ? undefined : p.variant);
  return !want.variant || norm(have) === norm(want);
}

/** The first index entry for `want`, skipping attestation manifests. */
export function selectPlatform(manifests: Descriptor[], want: Platform): Descriptor | undefined {
  return manifests.find(
    (m) => m.annotations?.["vnd.docker.reference.type"] !== "attestation-manifest" && platformMatches(m.platform, want),
  );
}
