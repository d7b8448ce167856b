import assert from "node:assert/strict";
import { test } from "node:test";
import { encodeRequest, FIELD, HELPER_PROTOCOL_VERSION, parseEvent } from "./protocol.js";
import type { RunRequest } from "./types.js";

const req: RunRequest = {
  root: { type: "overlay", source: "overlay", target: "/", options: ["lowerdir=1:2", "upperdir=u", "workdir=w"], cwd: "/snap" },
  mounts: [{ type: "tmpfs", source: "tmpfs", target: "/t", options: ["size=1m"] }],
  spec: { args: ["sh", "-c", "echo 'a b'"], env: ["A=1"], cwd: "/", user: "app:staff", hostname: "h", network: "none" },
  extraHosts: ["1.2.3.4 x"],
  resources: { memoryBytes: 1024, cpus: 1.5 },
};

/** Decodes a frame back into [tag, value] pairs (the helper's reading, in TypeScript). */
function fields(frame: Buffer): [number, string][] {
  assert.equal(frame.toString("ascii", 0, 4), "TSBR");
  assert.equal(frame.readUInt32LE(4), HELPER_PROTOCOL_VERSION);
  assert.equal(frame.readUInt32LE(8), frame.length - 12);
  const out: [number, string][] = [];
  for (let off = 12; off < frame.length; ) {
    const len = frame.readUInt32LE(off + 1);
    out.push([frame[off]!, frame.toString("utf8", off + 5, off + 5 + len)]);
    off += 5 + len;
  }
  return out;
}

test("a request encodes every value as its own field, in order", () => {
  const f = fields(encodeRequest(req));
  assert.deepEqual(f.slice(0, 6), [
    [FIELD.mount, "overlay"], [FIELD.mountSource, "overlay"], [FIELD.mountTarget, "/"],
    [FIELD.mountOption, "lowerdir=1:2"], [FIELD.mountOption, "upperdir=u"], [FIELD.mountOption, "workdir=w"],
  ]);
  assert.deepEqual(f.filter(([t]) => t === FIELD.arg).map(([, v]) => v), ["sh", "-c", "echo 'a b'"]);
  assert.deepEqual(f.find(([t]) => t === FIELD.mountCwd), [FIELD.mountCwd, "/snap"]);
  assert.deepEqual(f.find(([t]) => t === FIELD.cpus), [FIELD.cpus, "1.5"]);
  assert.deepEqual(f.find(([t]) => t === FIELD.user), [FIELD.user, "app:staff"]);
});

test("values the helper cannot carry are refused", () => {
  assert.throws(() => encodeRequest({ ...req, spec: { ...req.spec, env: ["A=\0"] } }), /NUL byte/);
  assert.throws(() => encodeRequest({ ...req, root: { ...req.root, target: "/x" } }), /root mount must target/);
});

test("events parse by kind; unknown lines are ignored", () => {
  assert.deepEqual(parseEvent('{"kind":"exit","exitCode":3}'), { kind: "exit", exitCode: 3 });
  assert.deepEqual(parseEvent('{"kind":"exit","signal":"SIGTERM"}'), { kind: "exit", signal: "SIGTERM" });
  assert.deepEqual(parseEvent('{"kind":"error","code":"exec/x","message":"m","errno":2}'), { kind: "error", code: "exec/x", message: "m", errno: 2 });
  assert.equal(parseEvent("not json"), undefined);
  assert.equal(parseEvent('{"kind":"exit"}'), undefined);
  assert.deepEqual(parseEvent('{"kind":"oom","kills":2}'), { kind: "oom", kills: 2 });
  assert.equal(parseEvent('{"kind":"oom"}'), undefined);
});
