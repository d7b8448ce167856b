/**
 * Deterministic build contexts for the benchmark. File names, sizes and tree shape come from a
 * seeded PRNG (mulberry32); file bytes come from an AES-256-CTR keystream keyed by the seed, so the
 * same seed always gives the same bytes and 500 MB take about a second to make.
 */
import { createCipheriv, createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";

export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A deterministic byte stream: AES-256-CTR over zeros, key and IV from the seed. */
export class ByteSource {
  private readonly cipher;
  constructor(seed: string) {
    const key = createHash("sha256").update(`key:${seed}`).digest();
    const iv = createHash("sha256").update(`iv:${seed}`).digest().subarray(0, 16);
    this.cipher = createCipheriv("aes-256-ctr", key, iv);
  }
  random(n: number): Buffer {
    return this.cipher.update(Buffer.alloc(n));
  }
  /** Text-like bytes (base64 of the keystream, broken into lines): compressible to about 75 %. */
  text(n: number): Buffer {
    const b64 = this.random(Math.ceil((n * 3) / 4) + 3).toString("base64").replace(/(.{76})/g, "$1\n");
    return Buffer.from(b64.slice(0, n));
  }
}

export interface TreeSpec {
  seed: number;
  files: number;
  totalBytes: number;
  /** Fraction of files whose bytes are text-like (the rest random). */
  textFraction?: number;
  /** Paths (relative) of files that go under ignored dirs: a predicate on the file index. */
  ignoredDir?: (i: number) => string | undefined;
}

export interface GeneratedTree {
  files: string[];
  bytes: number;
}

/**
 * Writes `files` files of about `totalBytes` in total under `dir`: a tree of directories 3 deep,
 * sizes drawn log-uniformly between 64 B and 8 × the mean, scaled to hit the total.
 */
export function writeTree(dir: string, spec: TreeSpec): GeneratedTree {
  const rand = mulberry32(spec.seed);
  const bytes = new ByteSource(String(spec.seed));
  const mean = spec.totalBytes / spec.files;
  const raw: number[] = [];
  for (let i = 0; i < spec.files; i++) raw.push(Math.exp(Math.log(64) + rand() * (Math.log(mean * 8) - Math.log(64))));
  const scale = spec.totalBytes / raw.reduce((a, b) => a + b, 0);
  const files: string[] = [];
  let total = 0;
  const dirsPerLevel = Math.max(2, Math.ceil(Math.cbrt(spec.files / 20)));
  for (let i = 0; i < spec.files; i++) {
    const a = Math.floor(rand() * dirsPerLevel);
    const b = Math.floor(rand() * dirsPerLevel);
    const ignored = spec.ignoredDir?.(i);
    const rel = join(ignored ?? "src", `d${a}`, `e${b}`, `f${i}.${rand() < (spec.textFraction ?? 0.7) ? "txt" : "bin"}`);
    const size = Math.max(1, Math.round(raw[i]! * scale));
    const path = join(dir, rel);
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, rel.endsWith(".txt") ? bytes.text(size) : bytes.random(size));
    files.push(rel);
    total += size;
  }
  return { files, bytes: total };
}

/** Makes `dir` once: a marker file records the key and file list, so later invocations reuse the context. */
export function ensureContext(dir: string, key: string, make: (dir: string) => GeneratedTree): GeneratedTree & { reused: boolean; seconds: number } {
  const marker = `${dir}.done.json`;
  if (existsSync(marker)) {
    const saved = JSON.parse(readFileSync(marker, "utf8")) as { key: string } & GeneratedTree;
    if (saved.key === key) return { files: saved.files, bytes: saved.bytes, reused: true, seconds: 0 };
  }
  const t0 = performance.now();
  rmSync(marker, { force: true });
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const tree = make(dir);
  writeFileSync(marker, JSON.stringify({ key, ...tree }));
  return { ...tree, reused: false, seconds: (performance.now() - t0) / 1000 };
}

/** Sets every file's atime/mtime under `dir` to `when` (seconds). */
export function touchAll(dir: string, files: string[], when: number): void {
  for (const f of files) utimesSync(join(dir, f), when, when);
}
