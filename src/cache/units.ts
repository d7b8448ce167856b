import { UsageError } from "../errors/index.js";

const BINARY: Record<string, number> = { "": 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3, t: 1024 ** 4, p: 1024 ** 5 };

/**
 * Parses a size the way Docker's `--keep-storage` does (go-units RAMInBytes): a number with an
 * optional binary unit, case-insensitive, optional `i` and `b`: `512`, `10GB`, `1.5g`, `200MiB`.
 */
export function parseSize(text: string): number {
  const m = /^(\d+(?:\.\d+)?) ?([kmgtp])?i?b?$/i.exec(text.trim());
  if (!m) throw new UsageError(`invalid size: '${text}' (expected e.g. 512MB, 10GB)`);
  return Math.floor(Number(m[1]) * BINARY[(m[2] ?? "").toLowerCase()]!);
}

const DECIMAL_UNITS = ["B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"];

/** Formats bytes as Docker's `buildx du` and `prune` do (go-units HumanSize): `1.235MB`, `0B`. */
export function formatSize(bytes: number): string {
  let size = bytes;
  let i = 0;
  while (size >= 1000 && i < DECIMAL_UNITS.length - 1) {
    size /= 1000;
    i++;
  }
  return `${Number(size.toPrecision(4))}${DECIMAL_UNITS[i]}`;
}

const DURATION_UNITS: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Parses a Go duration (`24h`, `1h30m`, `90s`, `1.5h`, `0`) into milliseconds. */
export function parseDuration(text: string): number {
  if (text === "0") return 0;
  const whole = /^(?:\d*\.?\d+(?:ns|us|\u00b5s|ms|s|m|h))+$/;
  if (!whole.test(text)) throw new UsageError(`invalid duration: '${text}' (expected e.g. 24h, 30m, 1h30m)`);
  let ms = 0;
  for (const m of text.matchAll(/(\d*\.?\d+)(ns|us|\u00b5s|ms|s|m|h)/g)) ms += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  return ms;
}

/** Elapsed time as go-units HumanDuration words it: "About an hour", "3 days". */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  const minutes = Math.floor(ms / 60_000);
  const hours = Math.floor(ms / 3_600_000 + 0.5);
  if (seconds < 1) return "Less than a second";
  if (seconds === 1) return "1 second";
  if (seconds < 60) return `${seconds} seconds`;
  if (minutes === 1) return "About a minute";
  if (minutes < 60) return `${minutes} minutes`;
  if (hours === 1) return "About an hour";
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}
