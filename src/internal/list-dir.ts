import { readdirSync } from "node:fs";

/** The names in `dir`, or none when it does not exist yet (stores create their dirs on first write). */
export function listDirOrEmpty(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw err;
  }
}
