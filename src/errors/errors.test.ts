import { test } from "node:test";
import assert from "node:assert/strict";
import { LocatedError, codeFrame } from "./index.js";

test("a located error names file, line and column and frames the line", () => {
  const text = "FROM busybox\nRUNN echo hi\nCMD x\n";
  const err = new LocatedError("parse/unknown-instruction", "unknown instruction: RUNN", { file: "Dockerfile", line: 2, column: 1, endColumn: 5 }, { sourceText: text });
  assert.equal(err.message, "Dockerfile:2:1: unknown instruction: RUNN");
  assert.equal(err.frame.split("\n")[1], ">   2 | RUNN echo hi".replace(">   2", "> 2"));
  assert.match(err.frame, /\|\s\^\^\^\^$/m);
});

test("the frame keeps tabs so the caret lines up", () => {
  const frame = codeFrame("\tRUN x\n", { file: "f", line: 1, column: 6 });
  assert.match(frame, /\| \t    \^/);
});
