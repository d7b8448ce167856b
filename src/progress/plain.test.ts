import { test } from "node:test";
import assert from "node:assert/strict";
import { PlainRenderer } from "./plain.js";
import { emptyStatus, type SolveStatus } from "./types.js";

function vertexEvent(patch: Partial<SolveStatus["vertexes"][0]> & { digest: string }): SolveStatus {
  const s = emptyStatus();
  s.vertexes.push({ inputs: [], name: `name ${patch.digest}`, ...patch });
  return s;
}

test("plain progress prints BuildKit's block format with numbers in order of first activity", () => {
  let out = "";
  const r = new PlainRenderer((t) => (out += t));
  const t0 = new Date().toISOString();
  r.update(vertexEvent({ digest: "a", started: t0, completed: t0, cached: true }));
  r.update(vertexEvent({ digest: "b", started: t0, cacheMiss: "file changed: app.js" }));
  const log = emptyStatus();
  log.logs.push({ vertex: "b", stream: 1, data: Buffer.from("hello\nwor"), timestamp: t0 });
  r.update(log);
  r.update(vertexEvent({ digest: "c", started: t0 }));
  r.update(vertexEvent({ digest: "b", started: t0, completed: t0 }));
  r.update(vertexEvent({ digest: "c", started: t0, completed: t0, error: "exit code: 2" }));
  r.finish();
  const lines = out.split("\n");
  assert.deepEqual(lines.slice(0, 3), ["#1 name a", "#1 CACHED", ""]);
  assert.equal(lines[3], "#2 name b");
  assert.equal(lines[4], "#2 cache miss: file changed: app.js");
  assert.match(lines[5]!, /^#2 0\.\d{3} hello$/);
  assert.deepEqual(lines.slice(6, 9), ["#2 ...", "", "#3 name c"]);
  assert.deepEqual(lines.slice(9, 12), ["#3 ...", "", "#2 name b"]);
  assert.match(lines[12]!, /^#2 DONE 0\.0s$/);
  assert.ok(out.includes("#3 ERROR: exit code: 2\n"));
  assert.ok(/#2 \d\.\d{3} wor\n/.test(out), "a partial last line is flushed at the end");
});
