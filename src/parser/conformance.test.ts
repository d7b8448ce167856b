// BuildKit's parser conformance vectors (fixtures/conformance/buildkit/parser, see its README).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { LocatedError, AggregateLocatedError } from "../errors/index.js";
import { parseAst } from "./ast.js";
import { dumpAst } from "./dump.js";

const root = join(fileURLToPath(import.meta.url), "../../../fixtures/conformance/buildkit/parser");

for (const name of readdirSync(join(root, "testfiles")).sort()) {
  test(`testfiles/${name} dumps exactly as BuildKit`, () => {
    const text = readFileSync(join(root, "testfiles", name, "Dockerfile"), "utf8");
    const want = readFileSync(join(root, "testfiles", name, "result"), "utf8");
    assert.equal(dumpAst(parseAst(text, { file: "Dockerfile" })) + "\n", want);
  });
}

const negativeReasons: Record<string, RegExp> = {
  empty_dockerfile: /file with no instructions/,
  only_comments: /file with no instructions/,
  env_no_value: /ENV must have two arguments/,
  "shykes-nested-json": /arrays must be comprised of strings only/,
};

for (const name of readdirSync(join(root, "testfiles-negative")).sort()) {
  test(`testfiles-negative/${name} is rejected with a location`, () => {
    const text = readFileSync(join(root, "testfiles-negative", name, "Dockerfile"), "utf8");
    assert.throws(
      () => parseAst(text, { file: `neg/${name}` }),
      (e: unknown) => {
        assert.ok(e instanceof LocatedError && !(e instanceof AggregateLocatedError));
        assert.match(e.message, new RegExp(`^neg/${name}:\\d+:\\d+: `));
        assert.match(e.detail, negativeReasons[name] ?? /./);
        return true;
      },
    );
  });
}

test("testfile-line gives BuildKit's start/end lines", () => {
  const ast = parseAst(readFileSync(join(root, "testfile-line/Dockerfile"), "utf8"), { file: "Dockerfile" });
  assert.deepEqual(
    ast.nodes.map((n) => [n.range.start.line, n.range.end.line]),
    [
      [5, 5],
      [11, 12],
      [17, 31],
    ],
  );
});
