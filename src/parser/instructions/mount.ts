/**
 * `RUN --mount=<csv>` into a typed spec, after BuildKit's commands_runmount.go. Keys are
 * case-insensitive, the default type is `bind`. At parse time values holding `$` are kept as
 * written and checked later: the converter calls `parseMountSpec` again with an expander.
 */
import { didYouMean } from "../diagnostics.js";
import { FlagError } from "./flags.js";

export type MountType = "bind" | "cache" | "tmpfs" | "secret" | "ssh";
export type CacheSharing = "shared" | "private" | "locked";

/** One `--mount`. Fields not meaningful for a type stay undefined. */
export interface MountSpec {
  type: MountType;
  /** The flag value as written. */
  raw: string;
  target?: string;
  source?: string;
  /** Stage name/index or image for bind/cache; never variable-expanded. */
  from?: string;
  readonly: boolean;
  /** cache/secret/ssh id. */
  id?: string;
  sharing?: CacheSharing;
  required: boolean;
  mode?: number;
  uid?: number;
  gid?: number;
  /** tmpfs size limit in bytes. */
  size?: number;
  /** secret: expose the secret as this environment variable. */
  env?: string;
  bindPropagation?: string;
  /** true when some value holds `$` and awaits expansion (so is not yet validated). */
  needsExpansion: boolean;
}

const MOUNT_TYPES: MountType[] = ["bind", "cache", "tmpfs", "secret", "ssh"];
const SHARING: CacheSharing[] = ["shared", "private", "locked"];
const KEYS = [
  "type", "from", "source", "src", "target", "dst", "destination", "readonly", "ro", "readwrite", "rw",
  "id", "sharing", "required", "mode", "uid", "gid", "size", "env", "bind-propagation",
];
const PROPAGATION = ["shared", "slave", "private", "rshared", "rslave", "rprivate"];

const fail = (code: string, msg: string): never => {
  throw new FlagError(code, msg);
};

/** Go's encoding/csv for one record (quotes only at the start of a field, `""` inside). */
export function splitCsv(s: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = "";
    if (s[i] === '"') {
      i++;
      for (;;) {
        if (i >= s.length) fail("parse/bad-mount", `failed to parse csv mounts: extraneous or missing " in quoted-field`);
        if (s[i] === '"') {
          if (s[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += s[i++];
      }
      if (i < s.length && s[i] !== ",") fail("parse/bad-mount", `failed to parse csv mounts: extraneous or missing " in quoted-field`);
    } else {
      while (i < s.length && s[i] !== ",") {
        if (s[i] === '"') fail("parse/bad-mount", `failed to parse csv mounts: bare " in non-quoted-field`);
        field += s[i++];
      }
    }
    fields.push(field);
    if (i >= s.length) return fields;
    i++;
  }
}

function parseBool(key: string, v: string): boolean {
  const l = v.toLowerCase();
  if (["1", "t", "true"].includes(l)) return true;
  if (["0", "f", "false"].includes(l)) return false;
  return fail("parse/bad-mount", `invalid value for ${key}: ${v}`);
}

function parseUint(key: string, v: string, radix: 8 | 10): number {
  const re = radix === 8 ? /^[0-7]+$/ : /^[0-9]+$/;
  const n = re.test(v) ? parseInt(v, radix) : NaN;
  if (!(n >= 0 && n <= 0xffffffff)) fail("parse/bad-mount", `invalid value ${v} for ${key}`);
  return n;
}

/** Docker's RAMInBytes: `64m`, `1.5g`, `512KiB`, binary multiples. */
export function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)*) ?([kKmMgGtTpP])?[iI]?[bB]?$/.exec(v);
  if (!m) return fail("parse/bad-mount", `invalid size: '${v}'`);
  const mult = 1024 ** (" kmgtp".indexOf((m[2] ?? " ").toLowerCase()) || 0);
  return Math.floor(parseFloat(m[1]!) * mult);
}

/** Parses one `--mount` value; with `expand`, values are expanded first (not `from`). */
export function parseMountSpec(raw: string, expand?: (word: string) => string): MountSpec {
  if (raw === "") fail("parse/bad-mount", "failed to parse csv mounts: empty mount specification");
  const m: MountSpec = { type: "bind", raw, readonly: true, required: false, needsExpansion: false };
  let roAuto = true;
  for (const field of splitCsv(raw)) {
    const eq = field.indexOf("=");
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === "readonly" || key === "ro" || key === "readwrite" || key === "rw") {
        m.readonly = key === "readonly" || key === "ro";
        roAuto = false;
        continue;
      }
      if (key === "required") {
        if (m.type !== "secret" && m.type !== "ssh") fail("parse/bad-mount", `unexpected key '${key}' for mount type '${m.type}'`);
        m.required = true;
        continue;
      }
      if (!KEYS.includes(key)) fail("parse/bad-mount", `unexpected key '${key}' in '${field}'${didYouMean(key, KEYS)}`);
      fail("parse/bad-mount", `invalid field '${field}' must be a key=value pair`);
    }
    let value = field.slice(eq + 1);
    if (key === "from") {
      if (/\$./.test(value)) fail("parse/bad-mount", `'from' doesn't support variable expansion, define alias stage instead`);
    } else if (expand) {
      value = expand(value);
    } else if (value.includes("$")) {
      m.needsExpansion = true;
      if (key === "target" || key === "dst" || key === "destination") m.target = value;
      continue;
    }
    roAuto = applyKey(m, key, field, value) && roAuto;
  }
  if (!m.needsExpansion) validate(m);
  if (roAuto) m.readonly = !(m.type === "cache" || m.type === "tmpfs");
  return m;
}

/** Sets one key; returns false when it decided read-only-ness explicitly. */
function applyKey(m: MountSpec, key: string, field: string, value: string): boolean {
  switch (key) {
    case "type": {
      const t = value.toLowerCase() as MountType;
      if (!MOUNT_TYPES.includes(t)) fail("parse/bad-mount", `unsupported mount type ${JSON.stringify(value)}${didYouMean(value, MOUNT_TYPES)}`);
      m.type = t;
      return true;
    }
    case "from":
      m.from = value;
      return true;
    case "source":
    case "src":
      m.source = value;
      return true;
    case "target":
    case "dst":
    case "destination":
      m.target = value;
      return true;
    case "readonly":
    case "ro":
      m.readonly = parseBool(key, value);
      return false;
    case "readwrite":
    case "rw":
      m.readonly = !parseBool(key, value);
      return false;
    case "required":
      if (m.type !== "secret" && m.type !== "ssh") fail("parse/bad-mount", `unexpected key '${key}' for mount type '${m.type}'`);
      m.required = parseBool(key, value);
      return true;
    case "id":
      m.id = value;
      return true;
    case "sharing": {
      const s = value.toLowerCase() as CacheSharing;
      if (!SHARING.includes(s)) fail("parse/bad-mount", `unsupported sharing value ${JSON.stringify(value)}`);
      m.sharing = s;
      return true;
    }
    case "mode":
      m.mode = parseUint("mode", value, 8);
      return true;
    case "uid":
      m.uid = parseUint("uid", value, 10);
      return true;
    case "gid":
      m.gid = parseUint("gid", value, 10);
      return true;
    case "size":
      m.size = parseSize(value);
      return true;
    case "env":
      m.env = value;
      return true;
    case "bind-propagation":
      if (!PROPAGATION.includes(value)) fail("parse/bad-mount", `invalid bind-propagation value ${JSON.stringify(value)}`);
      m.bindPropagation = value;
      return true;
    default:
      return fail("parse/bad-mount", `unexpected key '${key}' in '${field}'${didYouMean(key, KEYS)}`);
  }
}

function validate(m: MountSpec): void {
  const fileInfo = m.type === "secret" || m.type === "ssh" || m.type === "cache";
  for (const k of ["mode", "uid", "gid"] as const) {
    if (m[k] !== undefined && !fileInfo) fail("parse/bad-mount", `${k} not allowed for "${m.type}" type mounts`);
  }
  if (m.sharing !== undefined && m.type !== "cache") fail("parse/bad-mount", `invalid cache sharing set for ${m.type} mount`);
  if (m.size !== undefined && m.type !== "tmpfs") fail("parse/bad-mount", `unexpected key 'size' for mount type '${m.type}'`);
  if (m.env !== undefined && m.type !== "secret") fail("parse/bad-mount", `unexpected key 'env' for mount type '${m.type}'`);
  if (m.bindPropagation !== undefined && m.type !== "bind") fail("parse/bad-mount", `unexpected key 'bind-propagation' for mount type '${m.type}'`);
  if ((m.type === "bind" || m.type === "cache" || m.type === "tmpfs") && !m.target) {
    fail("parse/bad-mount", `mount type ${m.type} requires a target`);
  }
  if (m.type === "secret") {
    if (m.from !== undefined) fail("parse/bad-mount", "secret mount should not have a from");
    if (!m.source && !m.target && !m.id && m.env === undefined) fail("parse/bad-mount", "invalid secret mount. one of source, target required");
    if (m.source && m.id) fail("parse/bad-mount", "both source and id can't be set");
  }
}
