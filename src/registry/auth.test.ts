// Bearer token auth against the real docker-registry configured with `auth: token`, plus credentials lookup.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openContentStore } from "../image/content-store.js";
import { registryUnavailable, startRegistry, startTokenServer, type TestRegistry, type TestTokenServer } from "../../test/support/registry.js";
import { makeImage } from "./testdata/make-image.js";
import { parseChallenge, pullImage, pushImage, resolveCredentials } from "./index.js";

const dirs: string[] = [];
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  dirs.push(d);
  return d;
}
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

test("WWW-Authenticate challenges are parsed", () => {
  assert.deepEqual(parseChallenge('Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"'), {
    scheme: "bearer",
    params: { realm: "https://auth.docker.io/token", service: "registry.docker.io", scope: "repository:library/alpine:pull" },
  });
  assert.deepEqual(parseChallenge('Basic realm="x"'), { scheme: "basic", params: { realm: "x" } });
  assert.equal(parseChallenge(null), undefined);
  assert.equal(parseChallenge("Negotiate abc"), undefined);
});

describe("credentials from config.json", () => {
  function configDir(config: object): string {
    const dir = tempDir("tsbuild-cfg-");
    writeFileSync(join(dir, "config.json"), JSON.stringify(config));
    return dir;
  }

  /** A real docker-credential-<name> program on PATH that records what it was asked. */
  function helperOnPath(name: string, script: string): NodeJS.ProcessEnv {
    const bin = tempDir("tsbuild-helper-");
    const file = join(bin, `docker-credential-${name}`);
    writeFileSync(file, `#!/bin/sh\n${script}\n`);
    chmodSync(file, 0o755);
    return { ...process.env, PATH: `${bin}:${process.env.PATH}` };
  }

  test("auths: base64 auth, username/password, identity token; Docker Hub key", async () => {
    const dir = configDir({
      auths: {
        "https://index.docker.io/v1/": { auth: Buffer.from("hub:pw:with:colons").toString("base64") },
        "https://ghcr.io": { username: "gh", password: "tok" },
        "quay.io": { identitytoken: "refresh-me" },
      },
    });
    assert.deepEqual(await resolveCredentials("docker.io", { dockerConfigDir: dir }), { username: "hub", password: "pw:with:colons" });
    assert.deepEqual(await resolveCredentials("ghcr.io", { dockerConfigDir: dir }), { username: "gh", password: "tok" });
    assert.deepEqual(await resolveCredentials("quay.io", { dockerConfigDir: dir }), { identityToken: "refresh-me" });
    assert.equal(await resolveCredentials("other.example", { dockerConfigDir: dir }), undefined);
  });

  test("DOCKER_CONFIG locates config.json; a missing file means anonymous", async () => {
    const dir = configDir({ auths: { "r.example": { username: "u", password: "p" } } });
    assert.deepEqual(await resolveCredentials("r.example", { env: { DOCKER_CONFIG: dir } }), { username: "u", password: "p" });
    assert.equal(await resolveCredentials("r.example", { dockerConfigDir: tempDir("tsbuild-empty-") }), undefined);
  });

  test("credHelpers and credsStore run docker-credential-<name> get with the server URL on stdin", async () => {
    const log = join(tempDir("tsbuild-helper-log-"), "asked");
    const env = helperOnPath(
      "fake",
      `read server\necho "$1 $server" >> ${log}\ncase "$server" in\n  *nothere*) echo "credentials not found in native keychain"; exit 1;;\n  *token*) printf '{"ServerURL":"%s","Username":"<token>","Secret":"idtok"}' "$server";;\n  *) printf '{"ServerURL":"%s","Username":"helper-user","Secret":"helper-secret"}' "$server";;\nesac`,
    );
    const dir = configDir({ credHelpers: { "priv.example": "fake", "token.example": "fake", "nothere.example": "fake" }, credsStore: "fake" });
    assert.deepEqual(await resolveCredentials("priv.example", { dockerConfigDir: dir, env }), { username: "helper-user", password: "helper-secret" });
    assert.deepEqual(await resolveCredentials("token.example", { dockerConfigDir: dir, env }), { identityToken: "idtok" });
    assert.equal(await resolveCredentials("nothere.example", { dockerConfigDir: dir, env }), undefined);
    assert.deepEqual(await resolveCredentials("docker.io", { dockerConfigDir: dir, env }), { username: "helper-user", password: "helper-secret" });
    const { readFileSync } = await import("node:fs");
    assert.deepEqual(readFileSync(log, "utf8").trim().split("\n"), [
      "get priv.example",
      "get token.example",
      "get nothere.example",
      "get https://index.docker.io/v1/",
    ]);
  });

  test("a broken helper is a registry/credential-helper error", async () => {
    const env = helperOnPath("broken", `echo "keychain locked" >&2; exit 3`);
    const dir = configDir({ credsStore: "broken" });
    await assert.rejects(resolveCredentials("x.example", { dockerConfigDir: dir, env }), (err: Error & { code?: string }) => {
      assert.equal(err.code, "registry/credential-helper");
      assert.match(err.message, /keychain locked/);
      return true;
    });
    const missing = configDir({ credsStore: "does-not-exist-anywhere" });
    await assert.rejects(resolveCredentials("x.example", { dockerConfigDir: missing }), { code: "registry/credential-helper" });
  });
});

describe("Bearer token auth against docker-registry", { skip: registryUnavailable() }, () => {
  let tokens: TestTokenServer;
  let reg: TestRegistry;
  let cfg: string;
  before(async () => {
    tokens = await startTokenServer({ username: "bob", password: "hunter2" });
    reg = await startRegistry({ tokenAuth: tokens.registryAuth });
    cfg = tempDir("tsbuild-bearer-cfg-");
    mkdirSync(cfg, { recursive: true });
    writeFileSync(join(cfg, "config.json"), JSON.stringify({ auths: { [reg.host]: { username: "bob", password: "hunter2" } } }));
  });
  after(async () => {
    await reg?.stop();
    await tokens?.stop();
  });

  test("push and pull get tokens for the right scopes, and reuse them", async () => {
    const store = openContentStore(tempDir("tsbuild-bearer-store-"));
    const img = await makeImage(store, { layers: [{ "b.txt": "bearer\n" }, { "c.txt": "two\n" }] });
    tokens.requests.length = 0;
    await pushImage({ store, ref: `${reg.host}/team/app:1`, descriptor: img.descriptor, dockerConfigDir: cfg, concurrency: 1 });
    const pushScopes = tokens.requests.map((r) => r.scopes.join(" "));
    assert.ok(pushScopes.length >= 1);
    assert.ok(pushScopes.every((s) => s.includes("repository:team/app:pull,push")), pushScopes.join("; "));
    assert.ok(tokens.requests.every((r) => r.withCredentials && r.account === "bob"));
    // One token for the whole push: 3 blobs and a manifest, many requests, the cache answers.
    assert.equal(tokens.requests.length, 1);

    tokens.requests.length = 0;
    const pulled = await pullImage(`${reg.host}/team/app:1`, { store: openContentStore(tempDir("tsbuild-bearer-dst-")), dockerConfigDir: cfg });
    assert.equal(pulled.digest, img.descriptor.digest);
    assert.deepEqual(tokens.requests.map((r) => r.scopes), [["repository:team/app:pull"]]);
  });

  test("cross-repository mount asks for pull on the source repository in the same token", async () => {
    const store = openContentStore(tempDir("tsbuild-bearer-mount-"));
    const img = await makeImage(store, { layers: [{ "m.txt": "mounted\n" }] });
    await pushImage({ store, ref: `${reg.host}/base/one:1`, descriptor: img.descriptor, dockerConfigDir: cfg });
    tokens.requests.length = 0;
    const mounted: string[] = [];
    await pushImage({
      store,
      ref: `${reg.host}/base/two:1`,
      descriptor: img.descriptor,
      dockerConfigDir: cfg,
      mountFrom: "base/one",
      onProgress: (e) => e.kind === "blob-mounted" && mounted.push(e.digest),
    });
    assert.equal(mounted.length, 2);
    assert.ok(tokens.requests.some((r) => r.scopes.includes("repository:base/one:pull") && r.scopes.includes("repository:base/two:pull,push")));
  });

  test("wrong credentials at the token server give registry/unauthorized", async () => {
    const bad = tempDir("tsbuild-bearer-bad-");
    writeFileSync(join(bad, "config.json"), JSON.stringify({ auths: { [reg.host]: { username: "bob", password: "nope" } } }));
    await assert.rejects(pullImage(`${reg.host}/team/app:1`, { store: openContentStore(tempDir("tsbuild-x-")), dockerConfigDir: bad }), (err: Error & { code?: string }) => {
      assert.equal(err.code, "registry/unauthorized");
      assert.match(err.message, /check your credentials/);
      return true;
    });
  });

  test("anonymous pull of a private repository is refused clearly", async () => {
    await assert.rejects(pullImage(`${reg.host}/team/app:1`, { store: openContentStore(tempDir("tsbuild-y-")), dockerConfigDir: tempDir("tsbuild-anon-") }), {
      code: "registry/unauthorized",
    });
  });
});
