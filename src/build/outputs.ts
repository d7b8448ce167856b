/** Writes a finished build where `--output`, `--push` and `--load` ask for it. */
import { spawn } from "../internal/lazy-node.js";
import { closeSync, mkdirSync, existsSync, openSync } from "node:fs";
import { request } from "../internal/lazy-node.js";
import { PassThrough, type Writable } from "node:stream";
import { TsbuildError } from "../errors/index.js";
import { writeDockerArchive } from "../image/docker-archive.js";
import { writeOciLayout, writeOciTar } from "../image/oci-layout.js";
import type { BuiltManifest } from "../image/manifest.js";
import { pushImage } from "../registry/push.js";
import { flattenedDir } from "./flattened.js";
import type { BuildServices, StepResult } from "./services.js";
import type { OutputSpec } from "./types.js";

export interface OutputContext {
  svc: BuildServices;
  result: StepResult;
  /** The image with layers compressed for export (gzip unless asked otherwise). */
  exportImage: (compression: "gzip" | "uncompressed" | "zstd", mediaTypes: "oci" | "docker") => Promise<BuiltManifest>;
  names: string[];
  stdout: Writable;
  insecureRegistries: string[];
  signal?: AbortSignal;
  sourceDateEpoch?: number;
}

export async function writeOutput(spec: OutputSpec, ctx: OutputContext): Promise<void> {
  switch (spec.type) {
    case "oci":
    case "docker": {
      const built = await ctx.exportImage(spec.compression ?? "gzip", spec.type === "oci" ? "oci" : "docker");
      const names = spec.name ? spec.name.split(",") : ctx.names;
      const mtime = ctx.sourceDateEpoch ?? 0;
      if (spec.type === "docker") {
        await writeDockerArchive(dest(spec.dest, ctx.stdout), { store: ctx.svc.store, images: [{ manifest: built.descriptor, repoTags: names }], mtime });
      } else if (spec.tar === false) {
        mkdirSync(spec.dest, { recursive: true });
        await writeOciLayout(spec.dest, { store: ctx.svc.store, manifests: entries(built, names) });
      } else {
        await writeOciTar(dest(spec.dest, ctx.stdout), { store: ctx.svc.store, manifests: entries(built, names), mtime });
      }
      return;
    }
    case "local": {
      const src = await flattenedDir(ctx.svc, ctx.result);
      mkdirSync(spec.dest, { recursive: true });
      await run("cp", ["-a", "--", `${src}/.`, spec.dest]);
      return;
    }
    case "tar": {
      const src = await flattenedDir(ctx.svc, ctx.result);
      const args = ["-C", src, "--sort=name", "--numeric-owner", ...(ctx.sourceDateEpoch !== undefined ? [`--mtime=@${ctx.sourceDateEpoch}`, "--clamp-mtime"] : []), "-cf", "-", "."];
      await run("tar", args, dest(spec.dest, ctx.stdout));
      return;
    }
    case "image":
    case "registry": {
      if (!spec.push) return;
      const names = spec.name ? spec.name.split(",") : ctx.names;
      await pushAll(names, ctx, spec.insecure ? names.map(registryOf) : []);
      return;
    }
  }
}

export async function pushAll(names: string[], ctx: OutputContext, extraInsecure: string[] = []): Promise<void> {
  if (names.length === 0) throw new TsbuildError("build/push-no-name", "--push needs an image name: add -t NAME");
  const built = await ctx.exportImage("gzip", "oci");
  for (const ref of names) {
    await pushImage({
      store: ctx.svc.store,
      ref,
      descriptor: built.descriptor,
      insecureRegistries: [...ctx.insecureRegistries, ...extraInsecure],
      env: ctx.svc.env,
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
  }
}

/** `--load`: a docker-archive streamed to a running Docker daemon's /images/load. */
export async function loadIntoDocker(ctx: OutputContext): Promise<void> {
  const socket = (ctx.svc.env.DOCKER_HOST ?? "unix:///var/run/docker.sock").replace(/^unix:\/\//, "");
  if (!existsSync(socket)) throw new TsbuildError("build/no-docker", `--load needs a running Docker daemon: ${socket} does not exist (use --output type=docker,dest=FILE instead)`);
  const built = await ctx.exportImage("gzip", "docker");
  const body = new PassThrough();
  const done = new Promise<void>((resolve, reject) => {
    const req = request({ socketPath: socket, path: "/images/load?quiet=1", method: "POST", headers: { "Content-Type": "application/x-tar" } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new TsbuildError("build/load-failed", `docker load failed: ${res.statusCode} ${Buffer.concat(chunks).toString()}`))));
    });
    req.on("error", (e) => reject(new TsbuildError("build/load-failed", `docker load failed: ${e.message}`)));
    body.pipe(req);
  });
  await writeDockerArchive(body, { store: ctx.svc.store, images: [{ manifest: built.descriptor, repoTags: ctx.names }] });
  await done;
}

function entries(built: BuiltManifest, names: string[]) {
  return names.length ? names.map((imageName) => ({ descriptor: built.descriptor, imageName })) : [{ descriptor: built.descriptor, refName: "latest" }];
}

function dest(path: string, stdout: Writable): string | Writable {
  return path === "-" ? stdout : path;
}

function registryOf(name: string): string {
  const first = name.split("/")[0]!;
  return first.includes(".") || first.includes(":") || first === "localhost" ? first : "docker.io";
}

function run(cmd: string, args: string[], out?: string | Writable): Promise<void> {
  // A file destination gets the child's stdout directly, so the file is complete when it exits.
  const fd = typeof out === "string" ? openSync(out, "w") : undefined;
  return new Promise<void>((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ["ignore", fd ?? (out ? "pipe" : "ignore"), "pipe"] });
    if (out && typeof out !== "string") child.stdout!.pipe(out, { end: false });
    let err = "";
    child.stderr!.on("data", (c: Buffer) => (err += c.toString()));
    child.on("error", reject);
    child.on("close", (code) => (code === 0 ? resolve() : reject(new TsbuildError("build/output-failed", `${cmd} failed: ${err.trim()}`))));
  }).finally(() => {
    if (fd !== undefined) closeSync(fd);
  });
}
