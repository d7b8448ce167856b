/** Secret values for `RUN --mount=type=secret`, read from the caller's files or environment. */
import { readFileSync } from "node:fs";
import type { SecretStore } from "./types.js";

/** The value of secret `id`, or undefined when the store has no usable source for it. */
export function readSecret(store: SecretStore | undefined, id: string, env: NodeJS.ProcessEnv): Buffer | undefined {
  const entry = store?.get(id);
  if (!entry) return undefined;
  if (entry.file !== undefined) {
    try {
      return readFileSync(entry.file);
    } catch {
      return undefined;
    }
  }
  const value = entry.env === undefined ? undefined : env[entry.env];
  return value === undefined ? undefined : Buffer.from(value);
}
