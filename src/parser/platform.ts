/** Platforms (`os/arch[/variant]`) and the automatic platform ARGs, after BuildKit's platform.go. */

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const NODE_ARCH: Record<string, [string, string?]> = {
  x64: ["amd64"],
  arm64: ["arm64"],
  arm: ["arm", "v7"],
  ia32: ["386"],
  ppc64: ["ppc64le"],
  s390x: ["s390x"],
  riscv64: ["riscv64"],
  loong64: ["loong64"],
  mips64el: ["mips64le"],
};

/** The platform of this machine, in OCI terms (linux/amd64 on x64). */
export function hostPlatform(): Platform {
  const [architecture, variant] = NODE_ARCH[process.arch] ?? [process.arch];
  return { os: process.platform === "win32" ? "windows" : "linux", architecture, ...(variant ? { variant } : {}) };
}

export function formatPlatform(p: Platform): string {
  return [p.os, p.architecture, p.variant].filter(Boolean).join("/");
}

/** Parses `linux/arm64`, `linux/arm/v7`, or a bare architecture (`arm64`, os linux). */
export function parsePlatform(s: string): Platform | undefined {
  const parts = s.trim().toLowerCase().split("/");
  if (parts.some((p) => p === "") || parts.length > 3) return undefined;
  if (parts.length === 1) return { os: "linux", architecture: parts[0]! };
  const [os, architecture, variant] = parts as [string, string, string?];
  return { os, architecture, ...(variant ? { variant } : {}) };
}

/** TARGETPLATFORM, TARGETOS, … BUILDVARIANT for a target and a build platform. */
export function platformArgs(target: Platform, build: Platform): Map<string, string> {
  return new Map([
    ["TARGETPLATFORM", formatPlatform(target)],
    ["TARGETOS", target.os],
    ["TARGETARCH", target.architecture],
    ["TARGETVARIANT", target.variant ?? ""],
    ["BUILDPLATFORM", formatPlatform(build)],
    ["BUILDOS", build.os],
    ["BUILDARCH", build.architecture],
    ["BUILDVARIANT", build.variant ?? ""],
  ]);
}

/** Build args every RUN may see without an ARG line; never recorded in history. */
export const PROXY_ARGS = new Set([
  "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "FTP_PROXY", "ftp_proxy",
  "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy",
]);
