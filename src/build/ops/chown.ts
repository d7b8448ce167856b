import { TsbuildError } from "../../errors/index.js";
import type { MergedView } from "../merged-view.js";

/**
 * `--chown user[:group]` to numbers, looked up in the destination's /etc/passwd and /etc/group
 * as the parent snapshot shows them. A user given alone also sets the group to the user's
 * primary group when it is a name, or to the same number when numeric (BuildKit's rules).
 */
export function resolveChownInView(spec: string, view: MergedView): { uid: number; gid: number } {
  const [user = "", group] = spec.split(":");
  const passwd = parseDb(view.readFile("/etc/passwd"));
  const groups = parseDb(view.readFile("/etc/group"));
  const lookupUser = (): { uid: number; gid: number } => {
    if (/^\d+$/.test(user)) return { uid: Number(user), gid: Number(user) };
    const row = passwd.find((r) => r[0] === user);
    if (!row) throw new TsbuildError("build/unknown-user", `unable to convert uid/gid chown string to host mapping: can't find uid for user ${user}: no such user: ${user}`);
    return { uid: Number(row[2]), gid: Number(row[3]) };
  };
  const u = lookupUser();
  if (group === undefined) return u;
  if (/^\d+$/.test(group)) return { uid: u.uid, gid: Number(group) };
  const row = groups.find((r) => r[0] === group);
  if (!row) throw new TsbuildError("build/unknown-group", `unable to convert uid/gid chown string to host mapping: can't find gid for group ${group}: no such group: ${group}`);
  return { uid: u.uid, gid: Number(row[2]) };
}

function parseDb(buf: Buffer | undefined): string[][] {
  if (!buf) return [];
  return buf.toString("utf8").split("\n").filter((l) => l && !l.startsWith("#")).map((l) => l.split(":"));
}
