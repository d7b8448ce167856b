/**
 * Node built-ins that a fully cached build never uses, loaded on first use instead of at
 * start-up. Imported eagerly, child_process, worker_threads, http and zlib cost ~3 ms of every
 * no-op rebuild (≈80 ms in all; each measured as its own `require` after crypto and stream);
 * crypto (with the streams it loads) 2.5–3.5 ms more of a 0.060 s no-op.
 * Same signatures as the built-ins; import the types from the built-ins themselves.
 */
import { createRequire } from "node:module";
import type * as ChildProcessModule from "node:child_process";
import type * as CryptoModule from "node:crypto";
import type * as HttpModule from "node:http";
import type * as WorkerThreadsModule from "node:worker_threads";
import type * as ZlibModule from "node:zlib";

const load = createRequire(import.meta.url);
const childProcess = () => load("node:child_process") as typeof ChildProcessModule;
const zlib = () => load("node:zlib") as typeof ZlibModule;
const crypto = () => load("node:crypto") as typeof CryptoModule;

export const spawn = ((...args: unknown[]) => (childProcess().spawn as (...a: unknown[]) => unknown)(...args)) as typeof ChildProcessModule.spawn;
export const spawnSync = ((...args: unknown[]) => (childProcess().spawnSync as (...a: unknown[]) => unknown)(...args)) as typeof ChildProcessModule.spawnSync;

export const request = ((...args: unknown[]) => ((load("node:http") as typeof HttpModule).request as (...a: unknown[]) => unknown)(...args)) as typeof HttpModule.request;

export function newWorker(...args: ConstructorParameters<typeof WorkerThreadsModule.Worker>): WorkerThreadsModule.Worker {
  return new (load("node:worker_threads") as typeof WorkerThreadsModule).Worker(...args);
}

/** The whole zlib module (constants, crc32, deflateRaw), loaded on first call. */
export const lazyZlib = zlib;
export const createGunzip: typeof ZlibModule.createGunzip = (options) => zlib().createGunzip(options);
export const gunzipSync = ((...args: unknown[]) => (zlib().gunzipSync as (...a: unknown[]) => unknown)(...args)) as typeof ZlibModule.gunzipSync;

export const createHash = ((...args: unknown[]) => (crypto().createHash as (...a: unknown[]) => unknown)(...args)) as typeof CryptoModule.createHash;
