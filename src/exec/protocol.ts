/**
 * The wire protocol between tsbuild and native/helper.c, specified in native/README.md.
 * Requests are one binary frame on the helper's fd 3 (so no value is ever spliced into an argv
 * string); events come back as JSON lines on fd 4, tagged on `kind`. Stdout and stderr of the
 * sandboxed process are the helper's own stdout and stderr.
 */
import type { Mount, RunRequest } from "./types.js";

/** Bumped on any incompatible change of the request frame or the events. */
export const HELPER_PROTOCOL_VERSION = 1;

/** The request frame starts with these 4 bytes, then u32 LE version, then u32 LE body length. */
export const REQUEST_MAGIC = "TSBR";

/** Field tags of the request body: each field is `u8 tag, u32 LE length, bytes` (no NUL). */
export const FIELD = {
  mount: 0x01, // starts a mount; value = type. The first mount is the root.
  mountSource: 0x02,
  mountTarget: 0x03,
  mountOption: 0x04, // repeated, in order
  mountCwd: 0x05,
  arg: 0x10, // repeated, in order
  env: 0x11, // repeated, in order
  cwd: 0x12,
  user: 0x13,
  hostname: 0x14,
  network: 0x15,
  extraHost: 0x16, // repeated: one /etc/hosts line each
  memoryBytes: 0x20, // decimal
  cpus: 0x21, // decimal, may have a fraction
} as const;

/** What the helper reports on fd 4, one JSON object per line. */
export type HelperEvent =
  | { kind: "started" }
  | { kind: "warning"; message: string }
  | { kind: "exit"; exitCode?: number; signal?: string }
  | { kind: "oom"; kills: number }
  | { kind: "error"; code: string; message: string; errno?: number };

/** Serialises a request; throws TypeError on values the frame cannot carry (NUL bytes). */
export function encodeRequest(req: RunRequest): Buffer {
  const parts: Buffer[] = [];
  const field = (tag: number, value: string): void => {
    if (value.includes("\0")) throw new TypeError(`sandbox request value contains a NUL byte: ${JSON.stringify(value)}`);
    const bytes = Buffer.from(value, "utf8");
    const head = Buffer.alloc(5);
    head.writeUInt8(tag, 0);
    head.writeUInt32LE(bytes.length, 1);
    parts.push(head, bytes);
  };
  const mount = (m: Mount): void => {
    field(FIELD.mount, m.type);
    field(FIELD.mountSource, m.source);
    field(FIELD.mountTarget, m.target);
    for (const o of m.options) field(FIELD.mountOption, o);
    if (m.cwd !== undefined) field(FIELD.mountCwd, m.cwd);
  };
  if (req.root.target !== "/") throw new TypeError(`the root mount must target "/", not ${JSON.stringify(req.root.target)}`);
  mount(req.root);
  for (const m of req.mounts) mount(m);
  const { spec } = req;
  for (const a of spec.args) field(FIELD.arg, a);
  for (const e of spec.env) field(FIELD.env, e);
  field(FIELD.cwd, spec.cwd);
  field(FIELD.user, spec.user);
  field(FIELD.hostname, spec.hostname);
  field(FIELD.network, spec.network);
  for (const h of req.extraHosts ?? []) field(FIELD.extraHost, h);
  if (req.resources?.memoryBytes !== undefined) field(FIELD.memoryBytes, String(Math.floor(req.resources.memoryBytes)));
  if (req.resources?.cpus !== undefined) field(FIELD.cpus, String(req.resources.cpus));
  const body = Buffer.concat(parts);
  const header = Buffer.alloc(12);
  header.write(REQUEST_MAGIC, 0, "ascii");
  header.writeUInt32LE(HELPER_PROTOCOL_VERSION, 4);
  header.writeUInt32LE(body.length, 8);
  return Buffer.concat([header, body]);
}

/** Parses one event line; returns undefined for lines that are not a known event. */
export function parseEvent(line: string): HelperEvent | undefined {
  let v: unknown;
  try {
    v = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof v !== "object" || v === null) return undefined;
  const o = v as Record<string, unknown>;
  switch (o.kind) {
    case "started":
      return { kind: "started" };
    case "warning":
      return typeof o.message === "string" ? { kind: "warning", message: o.message } : undefined;
    case "exit":
      if (typeof o.exitCode === "number") return { kind: "exit", exitCode: o.exitCode };
      if (typeof o.signal === "string") return { kind: "exit", signal: o.signal };
      return undefined;
    case "oom":
      return typeof o.kills === "number" ? { kind: "oom", kills: o.kills } : undefined;
    case "error":
      if (typeof o.code !== "string" || typeof o.message !== "string") return undefined;
      return { kind: "error", code: o.code, message: o.message, ...(typeof o.errno === "number" ? { errno: o.errno } : {}) };
    default:
      return undefined;
  }
}
