/** Go's time.ParseDuration, returning nanoseconds (HEALTHCHECK flags). */
import { FlagError } from "./flags.js";

const UNITS: Record<string, number> = { ns: 1, us: 1e3, "µs": 1e3, "μs": 1e3, ms: 1e6, s: 1e9, m: 60e9, h: 3600e9 };

export function parseGoDuration(s: string): number {
  const bad = () => new FlagError("parse/bad-duration", `time: invalid duration ${JSON.stringify(s)}`);
  let rest = s;
  let sign = 1;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    if (rest[0] === "-") sign = -1;
    rest = rest.slice(1);
  }
  if (rest === "0") return 0;
  if (rest === "") throw bad();
  let total = 0;
  while (rest !== "") {
    const m = /^(\d*(?:\.\d*)?)(ns|us|\u00b5s|\u03bcs|ms|s|m|h)/.exec(rest);
    if (!m || m[1] === "" || m[1] === ".") {
      if (/^\d*(?:\.\d*)?$/.test(rest)) throw new FlagError("parse/bad-duration", `time: missing unit in duration ${JSON.stringify(s)}`);
      throw bad();
    }
    total += parseFloat(m[1]!) * UNITS[m[2]!]!;
    rest = rest.slice(m[0].length);
  }
  return sign * Math.round(total);
}
