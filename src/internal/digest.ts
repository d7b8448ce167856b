import { createHash } from "node:crypto";

/** An OCI content digest, `sha256:<64 hex>`. */
export type Digest = `sha256:${string}`;

export function sha256Digest(data: string | Uint8Array): Digest {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

export function isDigest(s: string): s is Digest {
  return /^sha256:[0-9a-f]{64}$/.test(s);
}

/** The hex part of a digest, used as a file name under blobs/sha256/. */
export function digestHex(d: Digest): string {
  return d.slice("sha256:".length);
}
