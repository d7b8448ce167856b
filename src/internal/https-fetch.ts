/**
 * The fetch tsbuild's own connections use (registries, `ADD <url>`).
 *
 * NODE_EXTRA_CA_CERTS makes Node parse every certificate in the file it names before any code
 * runs: 35 ms of Node's 60 ms start-up here, where it names the whole system bundle, on every
 * command, even a no-op rebuild that opens no connection. So the CLI's launcher
 * (bin/tsbuild.cjs, run as a program) hands the variable on as TSBUILD_EXTRA_CA_CERTS instead, and
 * this module trusts those certificates, besides Node's own, from the first https request on.
 * Where Node got the variable itself (`node bin/tsbuild.cjs`, the library) it has done that already.
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";

/** The variable the launcher (bin/tsbuild.cjs) moves NODE_EXTRA_CA_CERTS to. */
export const MOVED_EXTRA_CA_VAR = "TSBUILD_EXTRA_CA_CERTS";

let chosen: typeof fetch | undefined;

/** globalThis.fetch, or one that also trusts the moved extra certificates. */
export function httpsFetch(): typeof fetch {
  chosen ??= fetchFor(process.env);
  return chosen;
}

/** Node's fetch unless the launcher moved the variable (and nobody set it again since). */
function fetchFor(env: NodeJS.ProcessEnv): typeof fetch {
  const file = env[MOVED_EXTRA_CA_VAR];
  if (!file || env.NODE_EXTRA_CA_CERTS) return globalThis.fetch;
  let loaded: { undici: typeof import("undici"); agent: import("undici").Agent } | undefined;
  return ((input: Parameters<typeof fetch>[0], init?: RequestInit) => {
    if (!loaded) {
      // loaded on the first request (undici is as big as the rest of tsbuild; node:tls pulls in crypto)
      const require = createRequire(import.meta.url);
      const undici = require("undici") as typeof import("undici");
      const { rootCertificates } = require("node:tls") as typeof import("node:tls");
      loaded = { undici, agent: new undici.Agent({ connect: { ca: [...rootCertificates, ...extraCertificates(file)] } }) };
    }
    const { undici, agent } = loaded;
    return undici.fetch(input as Parameters<typeof undici.fetch>[0], { ...(init as object), dispatcher: agent });
  }) as unknown as typeof fetch;
}

/**
 * Why a fetch threw: fetch itself says only "fetch failed", the reason (refused, certificate,
 * DNS) is its cause.
 */
export function fetchFailure(err: unknown): string {
  const e = err as Error & { cause?: Error };
  return e.cause?.message ?? e.message;
}

/** The file's certificates; a file that cannot be read is ignored with a warning, as Node does. */
function extraCertificates(file: string): string[] {
  try {
    return [readFileSync(file, "utf8")];
  } catch (err) {
    process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(err as Error).message}`);
    return [];
  }
}
