import { test } from "node:test";
import assert from "node:assert/strict";
import { parseAst } from "./ast.js";
import { parseDockerfile } from "./dockerfile.js";
import { LocatedError } from "../errors/index.js";
import type { CopyInstruction, RunInstruction } from "./instructions/types.js";

const docs = (text: string) => parseAst(text, { file: "Dockerfile" }).nodes.map((n) => n.heredocs);
const only = (text: string) => docs(text)[1]!;

test("RUN <<EOF reads the body up to the terminator, newline kept", () => {
  assert.deepEqual(only("FROM a\nRUN <<EOF\necho hi\n# not a comment\nEOF\n"), [
    { name: "EOF", content: "echo hi\n# not a comment\n", expand: true, chomp: false },
  ]);
});

test("several heredocs on one line are read in order, with command text after them", () => {
  const text = "FROM a\nCOPY <<X <<Y /dest\nY\nX\nX\nY\n";
  assert.deepEqual(only(text).map((h) => [h.name, h.content]), [["X", "Y\n"], ["Y", "X\n"]]);
  const run = "FROM a\nRUN <<A cat >/a && <<B python3\none\nA\ntwo\nB\n";
  assert.deepEqual(only(run).map((h) => [h.name, h.content]), [["A", "one\n"], ["B", "two\n"]]);
});

test("<<- matches a tab-indented terminator; body keeps tabs, COPY source is chomped", () => {
  const text = "FROM a\nCOPY <<-EOT /f\n\tbaz\n\tquux\n\tEOT\n";
  assert.deepEqual(only(text), [{ name: "EOT", content: "\tbaz\n\tquux\n", expand: true, chomp: true }]);
  const copy = parseDockerfile(text, { file: "Dockerfile" }).stages[0]!.instructions[0] as CopyInstruction;
  assert.deepEqual(copy.sourceContents, [{ path: "EOT", data: "baz\nquux\n", expand: true }]);
  assert.deepEqual(copy.sources, []);
  assert.equal(copy.dest, "/f");
});

test("quoted delimiters turn expansion off and lose their quotes", () => {
  for (const [word, name] of [["<<'EOF'", "EOF"], ['<<"EOF"', "EOF"], ["<<eo'f'", "eof"], ["<<'one two'", "one two"]]) {
    const h = only(`FROM a\nRUN ${word}\nx\n${name}\n`);
    assert.deepEqual(h.map((d) => [d.name, d.expand, d.content]), [[name, false, "x\n"]], word);
  }
  const escaped = only("FROM a\nRUN <<eo\\'f\nx\neo'f\n");
  assert.deepEqual(escaped.map((d) => [d.name, d.expand]), [["eo'f", true]]);
});

test("fd prefix, blanks after <<, empty body", () => {
  assert.deepEqual(only("FROM a\nRUN 3<<FD cat <&3\nv\nFD\n"), [{ name: "FD", content: "v\n", expand: true, chomp: false, fd: 3 }]);
  assert.deepEqual(only("FROM a\nRUN <<  EOF\nv\nEOF\n").map((h) => h.name), ["EOF"]);
  assert.deepEqual(only("FROM a\nRUN <<EOF\nEOF\n").map((h) => h.content), [""]);
});

test("not heredocs: JSON form, other instructions, quoted <<, <<<, bare <<", () => {
  for (const line of ['RUN ["cat", "<<EOF"]', "USER <<X", 'RUN echo "<<X"', "RUN cat <<<EOF", "RUN cat << ", "RUN cat <EOF"]) {
    assert.deepEqual(only(`FROM a\n${line}\n`), [], line);
  }
});

test("CRLF bodies keep their line endings; ONBUILD carries heredocs", () => {
  assert.deepEqual(only("FROM a\r\nRUN <<EOF\r\nx\r\nEOF\r\n").map((h) => h.content), ["x\r\n"]);
  const df = parseDockerfile("FROM a\nONBUILD RUN <<EOF\necho on\nEOF\n", { file: "Dockerfile" });
  const ob = df.stages[0]!.instructions[0]!;
  assert.equal(ob.kind, "onbuild");
  if (ob.kind !== "onbuild") return;
  assert.equal(ob.expression, "RUN <<EOF\necho on\nEOF");
  assert.equal((ob.trigger as RunInstruction).heredocs[0]!.content, "echo on\n");
});

test("an unterminated heredoc is a located error", () => {
  assert.throws(
    () => parseAst("FROM a\nRUN <<EOF\necho\n", { file: "Dockerfile" }),
    (e: unknown) => e instanceof LocatedError && e.code === "parse/unterminated-heredoc" && e.location.line === 2,
  );
});

test("a heredoc as COPY destination is rejected", () => {
  assert.throws(() => parseDockerfile("FROM a\nCOPY x <<EOF\nEOF\n", { file: "Dockerfile" }), /cannot accept a heredoc as a destination/);
});
