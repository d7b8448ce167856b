import { asStringOrBuffer } from "./bytes.js";
import { fsAddon } from "./fs-addon.js";
import { createHash } from "./lazy-node.js";

/** An OCI content digest, `sha256:<64 hex>`. */
export type Digest = `sha256:${string}`;

export function sha256Digest(data: string | Uint8Array): Digest {
  return `sha256:${sha256Hex(data)}`;
}

/**
 * sha256 in hex: through the native addon when it is built (no node:crypto to load, 2.5–3.5 ms
 * of a no-op rebuild), else through node:crypto. Strings are hashed as UTF-8 either way.
 */
export function sha256Hex(data: string | Uint8Array): string {
  const addon = fsAddon();
  if (addon) return addon.sha256Hex(asStringOrBuffer(data));
  return createHash("sha256").update(data).digest("hex");
}

export function isDigest(s: string): s is Digest {
  return /^sha256:[0-9a-f]{64}$/.test(s);
}

/** The hex part of a digest, used as a file name under blobs/sha256/. */
export function digestHex(d: Digest): string {
  return d.slice("sha256:".length);
}
