/**
 * Layer compression. gzip uses Node's zlib on every core (parallel-gzip.ts; no mtime or name in
 * the header, so output is reproducible); zstd uses the `zstd` CLI in a child process, because Node 20's zlib has no zstd
 * and the npm bindings need a native build (dependencies notes §3).
 */
import { spawn } from "../../internal/lazy-node.js";
import { Duplex, PassThrough, Readable } from "node:stream";
import { createGunzip } from "../../internal/lazy-node.js";
import { parallelGzip } from "./parallel-gzip.js";
import { TsbuildError } from "../../errors/index.js";
import {
  MEDIA_TYPE_DOCKER_LAYER,
  MEDIA_TYPE_DOCKER_LAYER_GZIP,
  MEDIA_TYPE_OCI_LAYER,
  MEDIA_TYPE_OCI_LAYER_GZIP,
  MEDIA_TYPE_OCI_LAYER_ZSTD,
} from "../types.js";

export type Compression = "gzip" | "none" | "zstd";

/**
 * Level 1 is the default: gzip is the bottleneck of layer export. Measured with writeLayer on
 * /usr/lib/x86_64-linux-gnu (660 MiB, warm cache, 2 cores): level 1 took 7.3 s for 244 MiB,
 * level 6 took 14.5 s for 224 MiB; twice the time for 8 % less. (zstd -3: 3.4 s, 206 MiB.)
 */
export const DEFAULT_GZIP_LEVEL = 1;
export const DEFAULT_ZSTD_LEVEL = 3;

export function layerMediaType(c: Compression, flavour: "oci" | "docker"): string {
  if (flavour === "docker") {
    if (c === "zstd") throw new TsbuildError("layer/unsupported", "Docker media types have no zstd layer; use OCI media types");
    return c === "gzip" ? MEDIA_TYPE_DOCKER_LAYER_GZIP : MEDIA_TYPE_DOCKER_LAYER;
  }
  return c === "gzip" ? MEDIA_TYPE_OCI_LAYER_GZIP : c === "zstd" ? MEDIA_TYPE_OCI_LAYER_ZSTD : MEDIA_TYPE_OCI_LAYER;
}

export function compressor(c: Compression, level?: number): Duplex {
  if (c === "gzip") return parallelGzip(level ?? DEFAULT_GZIP_LEVEL);
  if (c === "zstd") return zstdProcess([`-${level ?? DEFAULT_ZSTD_LEVEL}`, "-q", "-c", "--no-check"]);
  return new PassThrough();
}

export function decompressor(c: Compression): Duplex {
  if (c === "gzip") return createGunzip({ chunkSize: 128 * 1024 });
  if (c === "zstd") return zstdProcess(["-d", "-q", "-c"]);
  return new PassThrough();
}

/** The compression of a blob from its first bytes (gzip 1f 8b, zstd 28 b5 2f fd); else none. */
export function detectCompression(head: Uint8Array): Compression {
  if (head[0] === 0x1f && head[1] === 0x8b) return "gzip";
  if (head[0] === 0x28 && head[1] === 0xb5 && head[2] === 0x2f && head[3] === 0xfd) return "zstd";
  return "none";
}

/** The compression a layer media type declares; undefined for types this module does not know. */
export function mediaTypeCompression(mediaType: string): Compression | undefined {
  if (/(\+|\.)gzip$/.test(mediaType)) return "gzip";
  if (/\+zstd$/.test(mediaType)) return "zstd";
  if (/(\.|diff\.)tar$/.test(mediaType)) return "none";
  return undefined;
}

/** Reads the first bytes of `source` to detect its compression, then yields all of it decompressed. */
export async function* decompress(source: AsyncIterable<Uint8Array>, mediaType?: string): AsyncGenerator<Buffer> {
  const it = source[Symbol.asyncIterator]();
  const head: Buffer[] = [];
  let headLen = 0;
  let done = false;
  while (headLen < 4) {
    const r = await it.next();
    if (r.done) {
      done = true;
      break;
    }
    head.push(Buffer.from(r.value));
    headLen += r.value.byteLength;
  }
  const kind = detectCompression(Buffer.concat(head));
  const declared = mediaType === undefined ? undefined : mediaTypeCompression(mediaType);
  if (declared !== undefined && declared !== kind && !(declared === "none" && headLen === 0)) {
    throw new TsbuildError("layer/bad-blob", `layer says ${mediaType} but its content is ${kind === "none" ? "uncompressed" : kind}`);
  }
  const rest = (async function* () {
    yield* head;
    if (done) return;
    for (let r = await it.next(); !r.done; r = await it.next()) yield r.value;
  })();
  const d = decompressor(kind);
  const input = Readable.from(rest, { objectMode: false });
  input.on("error", (err) => d.destroy(err));
  input.pipe(d);
  for await (const chunk of d) yield chunk as Buffer;
}

function zstdProcess(args: string[]): Duplex {
  const proc = spawn("zstd", args, { stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  proc.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const duplex = Duplex.from({ writable: proc.stdin, readable: proc.stdout });
  proc.on("error", (err) =>
    duplex.destroy(new TsbuildError("layer/zstd-failed", `cannot run zstd (apt-get install zstd): ${err.message}`)),
  );
  proc.on("close", (code) => {
    if (code !== 0) duplex.destroy(new TsbuildError("layer/zstd-failed", `zstd exited with ${code}: ${stderr.trim()}`));
  });
  return duplex;
}
