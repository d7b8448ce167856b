/**
 * NODE_EXTRA_CA_CERTS through the CLI run as a program: its launcher hands the variable on as
 * TSBUILD_EXTRA_CA_CERTS (Node would otherwise parse the file at every start), and tsbuild's own
 * https connections still trust those certificates. Real TLS: a server on 127.0.0.1 with a
 * certificate made by openssl for this test, fetched by `ADD https://…`.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { ensureBuiltPackage, makeFixture, REPO, type Fixture } from "./support.js";

let fx: Fixture;
let server: Server;
let base: string;
let cert: string;
/** NODE_EXTRA_CA_CERTS and TSBUILD_EXTRA_CA_CERTS as the process fetching from the server had them. */
const seenEnv: Record<string, string | undefined>[] = [];
let childPid = 0;

before(async () => {
  fx = await makeFixture("tsbuild-extra-ca-");
  cert = join(fx.dir, "cert.pem");
  const key = join(fx.dir, "key.pem");
  const made = spawnSync("openssl", ["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key, "-out", cert, "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"], { encoding: "utf8" });
  assert.equal(made.status, 0, made.stderr);
  server = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (req, res) => {
    const environ = readFileSync(`/proc/${childPid}/environ`, "utf8").split("\0");
    const get = (name: string) => environ.find((e) => e.startsWith(`${name}=`))?.slice(name.length + 1);
    seenEnv.push({ NODE_EXTRA_CA_CERTS: get("NODE_EXTRA_CA_CERTS"), TSBUILD_EXTRA_CA_CERTS: get("TSBUILD_EXTRA_CA_CERTS") });
    res.end(`served over TLS at ${req.url}\n`);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  base = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  ensureBuiltPackage();
});
after(() => {
  server?.close();
  fx?.cleanup();
});

/** Runs bin/tsbuild.cjs as a program (its shebang), as `tsbuild` on the PATH is run. */
function buildAdding(path: string, extraCa: string | undefined): Promise<{ code: number | null; stderr: string }> {
  const dir = join(fx.dir, path.replace(/\W/g, ""));
  mkdirSync(dir);
  writeFileSync(join(dir, "Dockerfile"), `FROM busybox\nADD ${base}${path} /fetched.txt\nRUN cat /fetched.txt\n`);
  const env: NodeJS.ProcessEnv = { ...process.env, TSBUILD_ROOT: fx.root };
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.TSBUILD_EXTRA_CA_CERTS;
  if (extraCa) env.NODE_EXTRA_CA_CERTS = extraCa;
  const child = spawn(join(REPO, "bin/tsbuild.cjs"), ["build", "--progress=plain", dir], { env });
  childPid = child.pid!;
  let stderr = "";
  child.stderr.on("data", (c: Buffer) => (stderr += c.toString()));
  return new Promise((res) => child.on("close", (code) => res({ code, stderr })));
}

test("a certificate named by NODE_EXTRA_CA_CERTS is trusted, though Node itself never parsed it", async () => {
  const r = await buildAdding("/trusted.txt", cert);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /^#\d+ [\d.]+ served over TLS at \/trusted\.txt$/m);
  assert.deepEqual(seenEnv.at(-1), { NODE_EXTRA_CA_CERTS: undefined, TSBUILD_EXTRA_CA_CERTS: cert }, "the launcher moved the variable");
});

test("without it the same server is refused, naming the URL", async () => {
  const r = await buildAdding("/untrusted.txt", undefined);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`failed to fetch ${base.replace(/\./g, "\\.")}/untrusted\\.txt: self[- ]signed certificate`));
});
