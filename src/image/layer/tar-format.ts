/**
 * The tar header format (POSIX ustar plus pax extended headers), encoded and decoded here rather
 * than by tar-stream: tar-stream 3.2 builds pax records as UTF-8 strings, which corrupts binary
 * xattr values such as `security.capability`, and it cannot combine our records with the path
 * records it adds itself. Everything here is pure and byte-exact, so equal inputs give equal tars.
 */

export const BLOCK = 512;

export type EntryType = "file" | "link" | "symlink" | "char" | "block" | "dir" | "fifo";

export interface TarHeader {
  /** Path inside the layer, relative, "/"-separated; directories end with "/". */
  name: string;
  type: EntryType;
  mode: number; // permission bits including setuid/setgid/sticky
  uid: number;
  gid: number;
  size: number;
  /** Whole seconds since the epoch. */
  mtime: number;
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes, stored as pax `SCHILY.xattr.<name>` records with raw bytes. */
  xattrs: ReadonlyMap<string, Buffer>;
}

const TYPEFLAG: Record<EntryType, string> = { file: "0", link: "1", symlink: "2", char: "3", block: "4", dir: "5", fifo: "6" };
const XATTR_PREFIX = "SCHILY.xattr.";
const MAX_OCTAL_7 = 0o7777777;
const MAX_OCTAL_11 = 0o77777777777;

/** The header block(s) of one entry: a pax header first when ustar cannot hold everything. */
export function encodeHeader(h: TarHeader): Buffer {
  const split = splitUstarName(h.name);
  const linkFits = h.linkname === "" || fitsUstar(h.linkname, 100);
  let records: Array<[string, Buffer]> | undefined;
  const record = (key: string, value: Buffer) => (records ??= []).push([key, value]);
  if (!split) record("path", Buffer.from(h.name));
  if (!linkFits) record("linkpath", Buffer.from(h.linkname));
  if (h.uid > MAX_OCTAL_7) record("uid", Buffer.from(String(h.uid)));
  if (h.gid > MAX_OCTAL_7) record("gid", Buffer.from(String(h.gid)));
  if (h.size > MAX_OCTAL_11) record("size", Buffer.from(String(h.size)));
  if (h.xattrs.size > 0) {
    for (const [name, value] of [...h.xattrs].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) record(XATTR_PREFIX + name, value);
  }
  const main = ustarBlock({
    name: split?.name ?? asciiTail(h.name, 100),
    prefix: split?.prefix ?? "",
    type: h.type,
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    size: h.size,
    mtime: h.mtime,
    linkname: linkFits ? h.linkname : asciiTail(h.linkname, 100),
    devmajor: h.devmajor,
    devminor: h.devminor,
  });
  if (!records) return main;
  const body = encodePaxRecords(records);
  const paxHeader = ustarBlock({
    name: asciiTail(`PaxHeaders/${baseName(h.name)}`, 100),
    prefix: "",
    type: "x",
    mode: 0o644,
    uid: 0,
    gid: 0,
    size: body.length,
    mtime: h.mtime,
    linkname: "",
    devmajor: 0,
    devminor: 0,
  });
  return Buffer.concat([paxHeader, body, padding(body.length), main]);
}

/** Zero bytes that round `size` up to a whole block. */
export function padding(size: number): Buffer {
  const rem = size % BLOCK;
  return Buffer.alloc(rem === 0 ? 0 : BLOCK - rem);
}

/** The two zero blocks that end an archive. */
export const END_OF_ARCHIVE = Buffer.alloc(2 * BLOCK);

/** Pax records `"<len> <key>=<value>\n"`; the value is raw bytes. */
export function encodePaxRecords(records: Array<[string, Buffer]>): Buffer {
  const parts: Buffer[] = [];
  for (const [key, value] of records) {
    const rest = Buffer.byteLength(key) + value.length + 3; // " " "=" "\n"
    let len = rest + String(rest).length;
    if (String(len).length !== String(rest).length) len = rest + String(len).length;
    parts.push(Buffer.from(`${len} ${key}=`), value, Buffer.from("\n"));
  }
  return Buffer.concat(parts);
}

export function decodePaxRecords(buf: Buffer): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  let off = 0;
  while (off < buf.length) {
    const sp = buf.indexOf(0x20, off);
    if (sp < 0) break;
    const len = Number.parseInt(buf.subarray(off, sp).toString("latin1"), 10);
    if (!Number.isInteger(len) || len <= 0 || off + len > buf.length) break;
    const rec = buf.subarray(sp + 1, off + len - 1); // drop the trailing "\n"
    const eq = rec.indexOf(0x3d);
    if (eq >= 0) out.set(rec.subarray(0, eq).toString(), rec.subarray(eq + 1));
    off += len;
  }
  return out;
}

export { XATTR_PREFIX };

/** One ustar block's fields: a TarHeader's name split into name and prefix, or a pax header ("x"). */
type RawHeader = Omit<TarHeader, "type" | "xattrs"> & { prefix: string; type: EntryType | "x" };

// Built for every entry of every layer (25,000 in a large COPY): digits and the checksum are
// written byte by byte, which took a header from 6 µs to ~1.5 µs.
function ustarBlock(h: RawHeader): Buffer {
  const b = Buffer.allocUnsafe(BLOCK).fill(0);
  b.write(h.name, 0, 100, "latin1");
  writeOctal(b, 100, 8, h.mode & 0o7777);
  writeOctal(b, 108, 8, Math.min(h.uid, MAX_OCTAL_7));
  writeOctal(b, 116, 8, Math.min(h.gid, MAX_OCTAL_7));
  writeOctal(b, 124, 12, Math.min(h.size, MAX_OCTAL_11));
  writeOctal(b, 136, 12, Math.max(0, Math.min(h.mtime, MAX_OCTAL_11)));
  b[156] = (h.type === "x" ? "x" : TYPEFLAG[h.type]).charCodeAt(0);
  if (h.linkname) b.write(h.linkname, 157, 100, "latin1");
  b.write("ustar\x0000", 257, 8, "latin1");
  writeOctal(b, 329, 8, h.devmajor);
  writeOctal(b, 337, 8, h.devminor);
  if (h.prefix) b.write(h.prefix, 345, 155, "latin1");
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  writeOctal(b, 148, 8, sum);
  return b;
}

/** `value` as width - 1 zero-padded octal digits and a NUL (values here always fit). */
function writeOctal(b: Buffer, off: number, width: number, value: number): void {
  let v = value;
  for (let i = off + width - 2; i >= off; i--) {
    b[i] = 0x30 + (v % 8);
    v = Math.floor(v / 8);
  }
  b[off + width - 1] = 0;
}

/** Splits a name into ustar prefix (≤ 155 bytes) and name (≤ 100 bytes); undefined if impossible. */
function splitUstarName(name: string): { prefix: string; name: string } | undefined {
  if (fitsUstar(name, 100)) return { prefix: "", name };
  if (!isAscii(name) || name.length > 256) return undefined;
  // Split at a "/" so the tail fits in 100 and the head in 155 (a trailing "/" stays in the tail).
  for (let i = name.indexOf("/"); i >= 0 && i < name.length - 1; i = name.indexOf("/", i + 1)) {
    if (i <= 155 && name.length - i - 1 <= 100) return { prefix: name.slice(0, i), name: name.slice(i + 1) };
  }
  return undefined;
}

function fitsUstar(s: string, max: number): boolean {
  return s.length <= max && isAscii(s);
}

function isAscii(s: string): boolean {
  return /^[\x01-\x7f]*$/.test(s);
}

/** A printable fallback for readers without pax support. */
function asciiTail(s: string, max: number): string {
  return s.replace(/[^\x20-\x7e]/g, "_").slice(-max);
}

function baseName(name: string): string {
  const trimmed = name.endsWith("/") ? name.slice(0, -1) : name;
  return trimmed.slice(trimmed.lastIndexOf("/") + 1);
}
