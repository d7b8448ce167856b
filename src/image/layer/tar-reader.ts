/**
 * A streaming tar reader for ustar, pax (per-entry and global) and GNU long names. Pax values
 * stay raw bytes, so binary xattrs such as `security.capability` survive (see tar-format.ts).
 */
import { TsbuildError } from "../../errors/index.js";
import { BLOCK, XATTR_PREFIX, decodePaxRecords, type EntryType, type TarHeader } from "./tar-format.js";

export interface TarEntry {
  header: TarHeader;
  /** The entry's content. Unread content is skipped when the next entry is requested. */
  body(): AsyncGenerator<Buffer>;
}

const TYPES: Record<string, EntryType> = {
  "0": "file", "\0": "file", "7": "file", "1": "link", "2": "symlink", "3": "char", "4": "block", "5": "dir", "6": "fifo",
};

/** Exact-length reads over a chunked source. */
class ByteReader {
  private chunks: Buffer[] = [];
  private have = 0;
  constructor(private readonly it: AsyncIterator<Uint8Array>) {}

  /** Up to `max` bytes (at least 1) or null at end of input. */
  async some(max: number): Promise<Buffer | null> {
    if (this.have === 0) {
      const r = await this.it.next();
      if (r.done) return null;
      this.chunks.push(Buffer.from(r.value.buffer, r.value.byteOffset, r.value.byteLength));
      this.have += r.value.byteLength;
      if (this.have === 0) return this.some(max);
    }
    const first = this.chunks[0]!;
    const out = first.length <= max ? first : first.subarray(0, max);
    if (out === first) this.chunks.shift();
    else this.chunks[0] = first.subarray(max);
    this.have -= out.length;
    return out;
  }

  async exact(n: number): Promise<Buffer | null> {
    const parts: Buffer[] = [];
    let got = 0;
    while (got < n) {
      const b = await this.some(n - got);
      if (!b) return got === 0 ? null : truncated();
      parts.push(b);
      got += b.length;
    }
    return parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
  }

  async skip(n: number): Promise<void> {
    while (n > 0) {
      const b = await this.some(n);
      if (!b) truncated();
      n -= b!.length;
    }
  }
}

function truncated(): never {
  throw new TsbuildError("layer/bad-tar", "the layer tar is truncated");
}

export async function* readTar(source: AsyncIterable<Uint8Array>): AsyncGenerator<TarEntry> {
  const r = new ByteReader(source[Symbol.asyncIterator]());
  let globalPax = new Map<string, Buffer>();
  let pax = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await r.exact(BLOCK);
    if (!block || block.every((b) => b === 0)) break;
    const raw = decodeBlock(block);
    const padded = Math.ceil(raw.size / BLOCK) * BLOCK;
    if (raw.flag === "x" || raw.flag === "g" || raw.flag === "L" || raw.flag === "K") {
      const data = (await r.exact(padded)) ?? truncated();
      const body = data.subarray(0, raw.size);
      if (raw.flag === "x") pax = new Map([...pax, ...decodePaxRecords(body)]);
      else if (raw.flag === "g") globalPax = new Map([...globalPax, ...decodePaxRecords(body)]);
      else if (raw.flag === "L") longName = cString(body);
      else longLink = cString(body);
      continue;
    }
    const recs = new Map([...globalPax, ...pax]);
    const header = applyPax({ ...raw.header, name: longName ?? raw.header.name, linkname: longLink ?? raw.header.linkname }, recs);
    pax = new Map();
    longName = longLink = undefined;
    const type = TYPES[raw.flag];
    const dataSize = type === "file" ? header.size : type === undefined ? raw.size : 0;
    const dataPadded = Math.ceil(dataSize / BLOCK) * BLOCK;
    let left = dataSize;
    let consumed = 0;
    const body = async function* (): AsyncGenerator<Buffer> {
      while (left > 0) {
        const b = (await r.some(left)) ?? truncated();
        left -= b.length;
        consumed += b.length;
        yield b;
      }
    };
    if (type !== undefined) yield { header: { ...header, type }, body };
    await r.skip(dataPadded - consumed);
  }
  // Read to the end so the caller's diffID covers every byte, padding included.
  while (await r.some(1 << 20));
}

interface RawBlock {
  flag: string;
  size: number;
  header: Omit<TarHeader, "type">;
}

function decodeBlock(b: Buffer): RawBlock {
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : b[i]!;
  if (sum !== readNumber(b, 148, 8)) throw new TsbuildError("layer/bad-tar", "invalid tar header checksum (not a tar, or corrupt)");
  const ustar = b.subarray(257, 263).toString("latin1") === "ustar\0";
  let name = cString(b.subarray(0, 100));
  if (ustar && b[345] !== 0) name = cString(b.subarray(345, 500)) + "/" + name;
  const size = readNumber(b, 124, 12);
  return {
    flag: String.fromCharCode(b[156]!),
    size,
    header: {
      name,
      mode: readNumber(b, 100, 8) & 0o7777,
      uid: readNumber(b, 108, 8),
      gid: readNumber(b, 116, 8),
      size,
      mtime: readNumber(b, 136, 12),
      linkname: cString(b.subarray(157, 257)),
      devmajor: readNumber(b, 329, 8),
      devminor: readNumber(b, 337, 8),
      xattrs: new Map(),
    },
  };
}

function applyPax(h: Omit<TarHeader, "type">, recs: Map<string, Buffer>): Omit<TarHeader, "type"> {
  const out = { ...h, xattrs: new Map<string, Buffer>() };
  for (const [key, value] of recs) {
    const s = value.toString();
    if (key === "path") out.name = s;
    else if (key === "linkpath") out.linkname = s;
    else if (key === "size") out.size = Number.parseInt(s, 10);
    else if (key === "uid") out.uid = Number.parseInt(s, 10);
    else if (key === "gid") out.gid = Number.parseInt(s, 10);
    else if (key === "mtime") out.mtime = Math.floor(Number.parseFloat(s));
    else if (key.startsWith(XATTR_PREFIX)) out.xattrs.set(key.slice(XATTR_PREFIX.length), value);
  }
  return out;
}

function cString(b: Buffer): string {
  const nul = b.indexOf(0);
  return (nul < 0 ? b : b.subarray(0, nul)).toString();
}

/** Octal (space/NUL padded) or GNU base-256 numbers. */
function readNumber(b: Buffer, off: number, len: number): number {
  const f = b.subarray(off, off + len);
  if (f[0]! & 0x80) {
    let n = 0;
    for (let i = 1; i < f.length; i++) n = n * 256 + f[i]!;
    return n;
  }
  const s = f.toString("latin1").replace(/^[\0 ]+/, "").replace(/[\0 ].*$/s, "");
  return s === "" ? 0 : Number.parseInt(s, 8);
}
