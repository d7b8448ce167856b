/**
 * Low-level node → typed instruction, after BuildKit's instructions/parse.go: flags validated
 * per instruction, argument counts checked, heredocs attached, RUN mounts typed.
 */
import { didYouMean } from "../diagnostics.js";
import { parseHeredocWord, chompHeredocContent } from "../heredoc.js";
import type { AstNode } from "../types.js";
import { parseGoDuration } from "./duration.js";
import { FlagError, InstructionFlags } from "./flags.js";
import { parseMountSpec } from "./mount.js";
import { INSTRUCTION_NAMES, type Instruction, type KeyValue, type SourceContent } from "./types.js";

const err = (code: string, msg: string) => new FlagError(code, msg);
const atLeastOne = (name: string) => err("parse/missing-argument", `${name} requires at least one argument`);
const exactlyOne = (name: string) => err("parse/argument-count", `${name} requires exactly one argument`);

function base(node: AstNode) {
  return { range: node.range, original: node.original, rawFlags: node.flags };
}

function flagsOf(node: AstNode): InstructionFlags {
  return new InstructionFlags(node.flags, node.keyword.toUpperCase());
}

function pairs(args: string[], name: string): KeyValue[] {
  if (args.length === 0) throw atLeastOne(name);
  const out: KeyValue[] = [];
  for (let i = 0; i + 2 <= args.length; i += 3) {
    if (args[i] === "") throw err("parse/blank-name", `${name} names can not be blank`);
    out.push({ key: args[i]!, value: args[i + 1]! });
  }
  return out;
}

/** Converts one node; throws FlagError (code + message) for anything BuildKit rejects. */
export function parseInstruction(node: AstNode): Instruction {
  const kw = node.keyword.toLowerCase();
  const b = base(node);
  const a = node.args;
  switch (kw) {
    case "from": {
      const f = flagsOf(node).string("platform").parse();
      let stageName: string | undefined;
      if (a.length === 3 && a[1]!.toLowerCase() === "as") {
        stageName = a[2]!.toLowerCase();
        if (!/^[a-z][a-z0-9-_.]*$/.test(stageName)) {
          throw err("parse/bad-stage-name", `invalid name for build stage: ${JSON.stringify(a[2])}, name can't start with a number or contain symbols`);
        }
      } else if (a.length !== 1) {
        throw err("parse/argument-count", "FROM requires either one or three arguments");
      }
      const platform = f.get("platform");
      return { kind: "from", ...b, image: a[0]!, ...(stageName ? { stageName } : {}), ...(platform !== undefined ? { platform } : {}) };
    }
    case "run": {
      const f = flagsOf(node).strings("mount").string("network").string("security").parse();
      const network = f.get("network");
      if (network !== undefined && !["default", "none", "host"].includes(network)) {
        throw err("parse/bad-flag-value", `unsupported network mode ${JSON.stringify(network)}`);
      }
      const security = f.get("security");
      if (security !== undefined && !["sandbox", "insecure"].includes(security)) {
        throw err("parse/bad-flag-value", `unsupported security mode ${JSON.stringify(security)}`);
      }
      return {
        kind: "run",
        ...b,
        args: a,
        prependShell: !node.json,
        mounts: f.getAll("mount").map((m) => parseMountSpec(m)),
        ...(network ? { network: network as "default" } : {}),
        ...(security ? { security: security as "sandbox" } : {}),
        heredocs: node.heredocs,
      };
    }
    case "cmd":
    case "entrypoint":
      flagsOf(node).parse();
      return { kind: kw, ...b, args: a, prependShell: !node.json };
    case "shell":
      flagsOf(node).parse();
      if (a.length === 0) throw atLeastOne("SHELL");
      if (!node.json) throw err("parse/shell-not-json", `SHELL requires the arguments to be in JSON form`);
      return { kind: "shell", ...b, shell: a };
    case "healthcheck":
      return parseHealthcheck(node);
    case "env":
      flagsOf(node).parse();
      return { kind: "env", ...b, env: pairs(a, "ENV"), legacy: a[2] === "" };
    case "label":
      flagsOf(node).parse();
      return { kind: "label", ...b, labels: pairs(a, "LABEL"), legacy: a[2] === "" };
    case "arg": {
      flagsOf(node).parse();
      if (a.length === 0) throw atLeastOne("ARG");
      const args = a.map((w) => {
        const eq = w.indexOf("=");
        if (eq === 0) throw err("parse/blank-name", "ARG names can not be blank");
        return eq < 0 ? { key: w } : { key: w.slice(0, eq), value: w.slice(eq + 1) };
      });
      return { kind: "arg", ...b, args };
    }
    case "maintainer":
      flagsOf(node).parse();
      if (a.length !== 1) throw exactlyOne("MAINTAINER");
      return { kind: "maintainer", ...b, maintainer: a[0]! };
    case "expose":
      flagsOf(node).parse();
      if (a.length === 0) throw atLeastOne("EXPOSE");
      return { kind: "expose", ...b, ports: a };
    case "copy":
    case "add":
      return parseCopyLike(node, kw);
    case "volume": {
      flagsOf(node).parse();
      if (a.length === 0) throw atLeastOne("VOLUME");
      const volumes = a.map((v) => v.trim());
      if (volumes.some((v) => v === "")) throw err("parse/empty-volume", "VOLUME specified can not be an empty string");
      return { kind: "volume", ...b, volumes };
    }
    case "user":
    case "workdir":
    case "stopsignal": {
      flagsOf(node).parse();
      if (a.length !== 1) throw exactlyOne(kw.toUpperCase());
      if (kw === "user") return { kind: "user", ...b, user: a[0]! };
      if (kw === "workdir") return { kind: "workdir", ...b, path: a[0]! };
      return { kind: "stopsignal", ...b, signal: a[0]! };
    }
    case "onbuild":
      return parseOnbuild(node);
    case "":
      throw err("parse/empty-instruction", "empty instruction");
    default:
      throw err("parse/unknown-instruction", `unknown instruction: ${node.keyword}${didYouMean(node.keyword.toUpperCase(), INSTRUCTION_NAMES)}`);
  }
}

function parseHealthcheck(node: AstNode): Instruction {
  const a = node.args;
  if (a.length === 0) throw atLeastOne("HEALTHCHECK");
  const typ = a[0]!.toUpperCase();
  const common = { kind: "healthcheck" as const, ...base(node), interval: 0, timeout: 0, startPeriod: 0, startInterval: 0, retries: 0 };
  if (typ === "NONE") {
    if (a.length !== 1) throw err("parse/argument-count", "HEALTHCHECK NONE takes no arguments");
    flagsOf(node).parse();
    return { ...common, test: ["NONE"] };
  }
  const f = flagsOf(node).string("interval").string("timeout").string("start-period").string("start-interval").string("retries").parse();
  if (typ !== "CMD") throw err("parse/bad-healthcheck", `Unknown type ${JSON.stringify(typ)} in HEALTHCHECK (try CMD)`);
  const cmd = a.slice(1);
  if (cmd.length === 0) throw err("parse/bad-healthcheck", "Missing command after HEALTHCHECK CMD");
  const interval = (name: string): number => {
    const v = f.get(name);
    if (v === undefined || v === "") return 0;
    const ns = parseGoDuration(v);
    if (ns === 0) return 0;
    if (ns < 1e6) throw err("parse/bad-duration", `Interval "${name}" cannot be less than 1ms`);
    return ns;
  };
  let retries = 0;
  const r = f.get("retries");
  if (r !== undefined && r !== "") {
    if (!/^[+-]?\d+$/.test(r) || Math.abs(Number(r)) > 2 ** 31 - 1) throw err("parse/bad-flag-value", `strconv.ParseInt: parsing ${JSON.stringify(r)}: invalid syntax`);
    retries = Number(r);
    if (retries < 0) throw err("parse/bad-flag-value", `--retries cannot be negative (${retries})`);
  }
  return {
    ...common,
    test: node.json ? ["CMD", ...cmd] : ["CMD-SHELL", ...cmd],
    interval: interval("interval"),
    timeout: interval("timeout"),
    startPeriod: interval("start-period"),
    startInterval: interval("start-interval"),
    retries,
  };
}

function parseCopyLike(node: AstNode, kw: "copy" | "add"): Instruction {
  const name = kw.toUpperCase();
  const a = node.args;
  if (a.length < 2) {
    throw err("parse/missing-destination", `${name} requires at least two arguments, but only one was provided. Destination could not be determined`);
  }
  const f = flagsOf(node).string("chown").string("chmod").bool("link").strings("exclude");
  if (kw === "copy") f.string("from").bool("parents");
  else f.bool("keep-git-dir").string("checksum").bool("unpack");
  f.parse();
  const dest = a[a.length - 1]!;
  if (!node.json && parseHeredocWord(dest)) throw err("parse/bad-heredoc", `${name} cannot accept a heredoc as a destination`);
  const byName = new Map(node.heredocs.map((h) => [h.name, h]));
  const sources: string[] = [];
  const sourceContents: SourceContent[] = [];
  for (const s of a.slice(0, -1)) {
    const h = node.json ? undefined : parseHeredocWord(s);
    if (!h) {
      sources.push(s);
      continue;
    }
    const content = byName.get(h.name)?.content ?? "";
    sourceContents.push({ path: h.name, data: h.chomp ? chompHeredocContent(content) : content, expand: h.expand });
  }
  const opt = <K extends string, V>(k: K, v: V | undefined) => (v === undefined ? {} : ({ [k]: v } as Record<K, V>));
  const common = {
    ...base(node),
    sources,
    sourceContents,
    dest,
    ...opt("chown", f.get("chown")),
    ...opt("chmod", f.get("chmod")),
    link: f.getBool("link") ?? false,
    exclude: f.getAll("exclude"),
    heredocs: node.heredocs,
    json: node.json,
  };
  if (kw === "copy") {
    const from = f.get("from");
    if (from !== undefined && /\$./.test(from)) {
      throw err("parse/from-expansion", `'--from' doesn't support variable expansion, define alias stage instead`);
    }
    return { kind: "copy", ...common, ...opt("from", from), parents: f.getBool("parents") ?? false };
  }
  return {
    kind: "add",
    ...common,
    ...opt("keepGitDir", f.getBool("keep-git-dir")),
    ...opt("checksum", f.get("checksum")),
    ...opt("unpack", f.getBool("unpack")),
  };
}

function parseOnbuild(node: AstNode): Instruction {
  flagsOf(node).parse();
  const child = node.child;
  if (!child) throw atLeastOne("ONBUILD");
  const trigger = child.keyword.toUpperCase();
  if (trigger === "ONBUILD") throw err("parse/bad-onbuild", "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
  if (trigger === "MAINTAINER" || trigger === "FROM") throw err("parse/bad-onbuild", `${trigger} isn't allowed as an ONBUILD trigger`);
  let expression = node.original.replace(/^\s*ONBUILD\s*/i, "");
  for (const h of node.heredocs) expression += "\n" + h.content + h.name;
  const triggerNode: AstNode = { ...child, heredocs: node.heredocs };
  return { kind: "onbuild", ...base(node), expression, trigger: parseInstruction(triggerNode) };
}
