import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { basename, dirname, join } from "node:path";
import { asStringOrBuffer } from "../internal/bytes.js";
import { packageRoot } from "../internal/native-build.js";

type Binding = typeof import("@napi-rs/blake-hash");

/**
 * The binding's own loader asks `process.report.getReport()` whether libc is glibc or musl, which
 * costs ~5 ms at every start here; on Linux the glibc build of the platform package is tried
 * first (a musl system fails to load it and falls back to the loader).
 */
function loadBinding(): { binding: Binding; path: string } {
  const require = createRequire(import.meta.url);
  const installed = installedGnuBinding();
  if (installed) {
    try {
      return { binding: require(installed) as Binding, path: installed };
    } catch {
      // not glibc after all: resolved as below
    }
  }
  if (process.platform === "linux") {
    try {
      const path = require.resolve(`@napi-rs/blake-hash-linux-${process.arch}-gnu`);
      return { binding: require(path) as Binding, path };
    } catch {
      // not glibc, or an unpublished platform: the package's loader decides
    }
  }
  const path = require.resolve("@napi-rs/blake-hash");
  return { binding: require(path) as Binding, path };
}

/**
 * The glibc binding's file where npm puts it beside tsbuild's package (a checkout's node_modules,
 * or the node_modules tsbuild is installed in), found without require.resolve's package.json
 * lookups (~0.8 ms of every start).
 */
function installedGnuBinding(): string | undefined {
  const top = packageRoot();
  if (process.platform !== "linux" || top === undefined) return undefined;
  const rel = join("@napi-rs", `blake-hash-linux-${process.arch}-gnu`, `blake.linux-${process.arch}-gnu.node`);
  const candidates = [join(top, "node_modules", rel), ...(basename(dirname(top)) === "node_modules" ? [join(dirname(top), rel)] : [])];
  return candidates.find((c) => existsSync(c));
}

const loaded = loadBinding();
const { Blake3Hasher, blake3 } = loaded.binding;

/**
 * The BLAKE3 functions and the file they were loaded from, for code that hashes on a worker
 * thread (which loads the same file with `require`).
 */
export const blake3Binding: { blake3: (input: Buffer) => Buffer; Blake3Hasher: new () => { update(input: Buffer): unknown; digestBuffer(): Buffer }; path: string } = {
  blake3,
  Blake3Hasher,
  path: loaded.path,
};

/**
 * BLAKE3 through the native `@napi-rs/blake-hash` binding: the fastest hash available to Node 20
 * here (see bench/hash.ts). Used for cache keys and content checksums, never for OCI digests
 * (those must be sha256, see src/internal/digest.ts).
 */
export function blake3Hex(data: string | Uint8Array): string {
  return blake3(asStringOrBuffer(data)).toString("hex");
}

/** An incremental BLAKE3 hasher; `update` may be called any number of times before `digestHex`. */
export interface Blake3 {
  update(data: string | Uint8Array): Blake3;
  /** The 64-hex-digit digest of everything passed to `update`. Call once. */
  digestHex(): string;
}

export function createBlake3(): Blake3 {
  const h = new Blake3Hasher();
  const self: Blake3 = {
    update(data) {
      h.update(asStringOrBuffer(data));
      return self;
    },
    digestHex: () => h.digest("hex"),
  };
  return self;
}
