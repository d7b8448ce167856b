import { test } from "node:test";
import assert from "node:assert/strict";
import { AggregateLocatedError, LocatedError } from "../../errors/index.js";
import { parseDockerfile } from "../dockerfile.js";
import { parseMountSpec } from "./mount.js";

const first = (line: string) => parseDockerfile(`FROM a\n${line}\n`, { file: "Dockerfile" }).stages[0]!.instructions[0]!;
const rejects = (line: string, re: RegExp) =>
  assert.throws(() => first(line), (e: unknown) => e instanceof LocatedError && re.test(e.message) && e.location.line === 2, line);

test("--mount options of every type become typed fields", () => {
  assert.deepEqual(parseMountSpec('type=cache,id=go,target=/root/.cache,sharing=private,mode=0700,uid=1000,gid=100,from=b,source=/s'), {
    type: "cache", raw: 'type=cache,id=go,target=/root/.cache,sharing=private,mode=0700,uid=1000,gid=100,from=b,source=/s',
    readonly: false, required: false, needsExpansion: false, id: "go", target: "/root/.cache", sharing: "private",
    mode: 0o700, uid: 1000, gid: 100, from: "b", source: "/s",
  });
  const bind = parseMountSpec('"target=/a b",src=x,rw');
  assert.equal(bind.type, "bind");
  assert.equal(bind.target, "/a b");
  assert.equal(bind.readonly, false);
  assert.equal(parseMountSpec("type=bind,dst=/x").readonly, true);
  assert.equal(parseMountSpec("type=tmpfs,destination=/t,size=64m").size, 64 * 1024 * 1024);
  const secret = parseMountSpec("type=secret,id=tok,env=TOKEN,required");
  assert.deepEqual([secret.id, secret.env, secret.required, secret.readonly], ["tok", "TOKEN", true, true]);
  assert.equal(parseMountSpec("type=ssh,required=false").required, false);
  const later = parseMountSpec("type=cache,target=$DIR,uid=$UID");
  assert.deepEqual([later.needsExpansion, parseMountSpec(later.raw, (w) => w.replace("$DIR", "/d").replace("$UID", "5")).uid], [true, 5]);
});

test("bad --mount values are rejected with suggestions", () => {
  rejects("RUN --mount=type=bnd,target=/x a", /unsupported mount type "bnd" \(did you mean bind\?\)/);
  rejects("RUN --mount=type=cache,targt=/x a", /unexpected key 'targt'.*did you mean target\?/);
  rejects("RUN --mount=type=bind,target=/x,mode=0755 a", /mode not allowed for "bind"/);
  rejects("RUN --mount=type=cache,target=/x,sharing=weird a", /unsupported sharing value/);
  rejects("RUN --mount=type=secret,id=a,from=b a", /secret mount should not have a from/);
  rejects("RUN --mount=type=bind,from=$X,target=/a a", /doesn't support variable expansion/);
  assert.throws(() => parseMountSpec('type=bind,target=/a"b'), /bare "/);
});

test("flags are validated per instruction", () => {
  rejects("COPY --frm=x a b", /unknown flag: --frm for COPY \(did you mean --from\?\)/);
  rejects("COPY --link=maybe a b", /expecting boolean value/);
  rejects("COPY --from a b", /missing a value on flag: --from/);
  rejects("ENV --x=1 A=b", /unknown flag: --x for ENV/);
  rejects("RUN --network=bridge x", /unsupported network mode/);
  rejects("HEALTHCHECK --interval=5 CMD x", /missing unit/);
  rejects("HEALTHCHECK --timeout=10us CMD x", /cannot be less than 1ms/);
  rejects("HEALTHCHECK --retries=-1 CMD x", /cannot be negative/);
  rejects("SHELL /bin/bash -c", /JSON form/);
  rejects("HEALTHCHECK NONE x", /takes no arguments/);
  rejects("ONBUILD FROM x", /isn't allowed as an ONBUILD trigger/);
  rejects("COPY onlyone", /requires at least two arguments/);
  rejects("FROM a b", /one or three arguments/);
});

test("typed values of common instructions", () => {
  const copy = first("COPY --from=Build --chown=1:2 --chmod=644 --link --parents --exclude=*.md --exclude=x a b /d/");
  assert.equal(copy.kind, "copy");
  if (copy.kind === "copy") {
    assert.deepEqual([copy.from, copy.chown, copy.chmod, copy.link, copy.parents, copy.exclude, copy.sources, copy.dest],
      ["Build", "1:2", "644", true, true, ["*.md", "x"], ["a", "b"], "/d/"]);
  }
  const add = first("ADD --keep-git-dir --checksum=sha256:abc https://x/y.tar /z");
  assert.ok(add.kind === "add" && add.keepGitDir === true && add.checksum === "sha256:abc");
  const hc = first('HEALTHCHECK --interval=1m30s --start-period=0s --retries=3 CMD ["curl", "-f", "x"]');
  assert.ok(hc.kind === "healthcheck");
  if (hc.kind === "healthcheck") assert.deepEqual([hc.test, hc.interval, hc.retries], [["CMD", "curl", "-f", "x"], 90e9, 3]);
  const arg = first('ARG a b="c d" e=');
  assert.ok(arg.kind === "arg");
  if (arg.kind === "arg") assert.deepEqual(arg.args, [{ key: "a" }, { key: "b", value: '"c d"' }, { key: "e", value: "" }]);
  const from = parseDockerfile("FROM --platform=$BUILDPLATFORM img AS Builder\n", { file: "D" }).stages[0]!;
  assert.deepEqual([from.name, from.from.platform, from.from.image], ["builder", "$BUILDPLATFORM", "img"]);
});

test("several bad instructions are reported together", () => {
  assert.throws(
    () => parseDockerfile("FROM a\nRUNN x\nCOPY --nope a b\nENV\n", { file: "Dockerfile" }),
    (e: unknown) => e instanceof AggregateLocatedError && e.errors.map((x) => x.location.line).join() === "2,3,4",
  );
});

test("directives, BOM, escape token and the code frame", () => {
  const d = parseDockerfile("\uFEFF# syntax=docker/dockerfile:1\n# escape=`\nFROM a\nRUN echo `\n  hi\n", { file: "D" });
  assert.deepEqual(d.directives, { syntax: "docker/dockerfile:1", escape: "`" });
  const run = d.stages[0]!.instructions[0]!;
  assert.ok(run.kind === "run" && run.args[0] === "echo   hi");
  assert.throws(() => parseDockerfile("# escape=x\nFROM a\n", { file: "D" }), /invalid escape token/);
  try {
    parseDockerfile("FROM a\n  FOO bar\n", { file: "D" });
  } catch (e) {
    assert.ok(e instanceof LocatedError);
    assert.equal(e.location.column, 3);
    assert.match(e.frame, />\s+2 \|   FOO bar/);
  }
});
