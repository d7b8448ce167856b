// Mutated golden Dockerfiles must parse or fail with the project's located errors, never crash.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { AggregateLocatedError, LocatedError } from "../errors/index.js";
import { parseDockerfile } from "./dockerfile.js";
import { planBuild } from "./plan.js";

const dir = join(fileURLToPath(import.meta.url), "../../../fixtures/conformance/buildkit/parser/testfiles");
const corpus = readdirSync(dir).map((d) => readFileSync(join(dir, d, "Dockerfile"), "utf8"));
corpus.push("FROM a AS b\nRUN --mount=type=cache,target=/c <<EOF\nx\nEOF\nCOPY --from=b <<-X /y\n\tz\n\tX\n");

function prng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const INSERTS = ["\\", "<<", "<<EOF", "'", '"', "[", "]", "\n", "\\\n", "--", "--mount=", "=", "$", "${", "#", "\t", "`", "\r\n", "FROM ", "EOF\n", "AS "];

function mutate(text: string, rnd: () => number): string {
  let s = text;
  const n = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rnd() * (s.length + 1));
    const op = Math.floor(rnd() * 7);
    if (op === 0) s = s.slice(0, at) + s.slice(at + 1 + Math.floor(rnd() * 5));
    else if (op === 1) s = s.slice(0, at) + s.slice(at, at + 8) + s.slice(at);
    else if (op === 2) s = s.slice(0, at) + INSERTS[Math.floor(rnd() * INSERTS.length)] + s.slice(at);
    else if (op === 3) {
      const lines = s.split("\n");
      const i = Math.floor(rnd() * lines.length);
      const j = Math.floor(rnd() * lines.length);
      [lines[i], lines[j]] = [lines[j]!, lines[i]!];
      s = lines.join("\n");
    } else if (op === 4) {
      const lines = s.split("\n");
      const i = Math.floor(rnd() * lines.length);
      lines.splice(i, rnd() < 0.5 ? 1 : 0, lines[Math.floor(rnd() * lines.length)]!);
      s = lines.join("\n");
    } else if (op === 5) s = s.slice(0, at) + String.fromCharCode(Math.floor(rnd() * 128)) + s.slice(at);
    else s = s.slice(0, at) + s.slice(at + 1, at + 2) + s.slice(at, at + 1) + s.slice(at + 2);
  }
  return s;
}

test("20,000 mutated Dockerfiles parse or throw LocatedError/AggregateLocatedError", () => {
  const rnd = prng(20240521);
  let parsed = 0;
  let rejected = 0;
  for (let i = 0; i < 20000; i++) {
    const text = mutate(corpus[i % corpus.length]!, rnd);
    try {
      const df = parseDockerfile(text, { file: "Dockerfile" });
      planBuild(df, { platform: { os: "linux", architecture: "amd64" } });
      parsed++;
    } catch (e) {
      if (!(e instanceof LocatedError || e instanceof AggregateLocatedError)) {
        assert.fail(`case ${i} threw ${(e as Error)?.constructor?.name}: ${(e as Error)?.message}\n---\n${text}`);
      }
      rejected++;
    }
  }
  assert.ok(parsed > 1000 && rejected > 1000, `parsed ${parsed}, rejected ${rejected}`);
});
