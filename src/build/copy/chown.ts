/**
 * `--chown user[:group]`: numbers pass through; names are looked up in the destination's
 * `/etc/passwd` and `/etc/group` (symlinks resolved inside the root). Without a group the gid is
 * the uid, as Docker documents.
 */
import { readFile } from "node:fs/promises";
import { CopyError } from "./errors.js";
import { isMissing, resolveInRoot } from "./root-path.js";

export async function resolveChown(spec: string, destRoot: string): Promise<{ uid: number; gid: number }> {
  const colon = spec.indexOf(":");
  const userPart = colon < 0 ? spec : spec.slice(0, colon);
  const groupPart = colon < 0 ? undefined : spec.slice(colon + 1);
  if (userPart === "") throw new CopyError("copy/unknown-user", `invalid --chown value ${JSON.stringify(spec)}: no user`);
  const uid = isNumeric(userPart) ? Number(userPart) : await lookup(destRoot, "/etc/passwd", userPart, "user");
  if (groupPart === undefined || groupPart === "") return { uid, gid: uid };
  const gid = isNumeric(groupPart) ? Number(groupPart) : await lookup(destRoot, "/etc/group", groupPart, "group");
  return { uid, gid };
}

function isNumeric(s: string): boolean {
  return /^[0-9]+$/.test(s) && Number(s) <= 0xffffffff;
}

/** The third field (uid in passwd, gid in group) of the line whose first field is `name`. */
async function lookup(root: string, file: string, name: string, kind: "user" | "group"): Promise<number> {
  let text = "";
  try {
    text = await readFile(await resolveInRoot(root, file), "utf8");
  } catch (err) {
    if (!isMissing(err)) throw err;
  }
  for (const line of text.split("\n")) {
    const fields = line.split(":");
    if (fields[0] === name && fields.length >= 3 && isNumeric(fields[2]!.trim())) return Number(fields[2]);
  }
  throw new CopyError(`copy/unknown-${kind}`, `unable to find ${kind} ${name}: no matching entries in ${file}`);
}
