/**
 * Sorts names in byte (UTF-8) order, the order of tar entries and of Docker's walks. The default
 * sort compares UTF-16 code units, which is the same order unless a name holds a character at or
 * above U+D800; only then are names compared as bytes (a Buffer per comparison cost 10 ms over
 * 25,000 names). Sorts in place and returns `names`.
 */
export function sortByteOrder(names: string[]): string[] {
  return names.some((n) => /[\uD800-\uFFFF]/.test(n)) ? names.sort(compareBytes) : names.sort();
}

function compareBytes(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}
