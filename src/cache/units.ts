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
  const whole = /^(?:\d*\.?\d+(?:ns|us|µs|ms|s|m|h))+$/;
  if (!whole.test(text)) throw new UsageError(`invalid duration: '${text}' (expected e.g. 24h, 30m, 1h30m)`);
  let ms = 0;
  for (const m of text.matchAll(/(\d*\.?\d+)(ns|us|µs|ms|s|m|h)/g)) ms += Number(m[1]) * DURATION_UNITS[m[2]!]!;
  return ms;
}
