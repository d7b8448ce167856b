/**
 * Reading `.dockerignore` files: the text normalisation of moby/patternmatcher's `ignorefile`, and
 * the lookup BuildKit does (`<Dockerfile>.dockerignore` beside the Dockerfile wins over
 * `CONTEXT/.dockerignore`).
 */
import { readFileSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { cleanPath, goTrimSpace } from "./go-path.js";
import { compilePatterns, type PatternMatcher } from "./matcher.js";

/**
 * Patterns from `.dockerignore` text: UTF-8 BOM stripped, lines starting with `#` dropped (before
 * trimming), lines trimmed, empty lines dropped, each pattern cleaned with a leading `/` removed
 * (`! /a/b` → `!a/b`). A lone `!` is kept; `compilePatterns` rejects it.
 */
export function readDockerignore(text: string): string[] {
  const body = text.startsWith("\uFEFF") ? text.slice(1) : text;
  const out: string[] = [];
  for (const rawLine of body.split("\n")) {
    const line = rawLine.endsWith("\r") ? rawLine.slice(0, -1) : rawLine;
    if (line.startsWith("#")) continue;
    let pattern = goTrimSpace(line);
    if (pattern === "") continue;
    const invert = pattern.startsWith("!");
    if (invert) pattern = goTrimSpace(pattern.slice(1));
    if (pattern.length > 0) {
      pattern = cleanPath(pattern);
      if (pattern.length > 1 && pattern.startsWith("/")) pattern = pattern.slice(1);
    }
    out.push(invert ? "!" + pattern : pattern);
  }
  return out;
}

export interface LoadedDockerignore {
  /** The normalised patterns; empty when there is no ignore file. */
  patterns: string[];
  /** The file they came from, absolute. */
  file?: string;
  /** The compiled patterns. */
  matcher: PatternMatcher;
}

/**
 * Finds and reads the ignore file for a build: `<dir of Dockerfile>/<Dockerfile name>.dockerignore`
 * first, then `<contextDir>/.dockerignore`. `dockerfile` may be relative to `contextDir`. Bad
 * patterns throw DockerignorePatternError naming the file.
 */
export async function loadDockerignore(contextDir: string, dockerfile: string): Promise<LoadedDockerignore> {
  const dockerfilePath = resolve(contextDir, dockerfile);
  const candidates = [
    resolve(dirname(dockerfilePath), basename(dockerfilePath) + ".dockerignore"),
    resolve(contextDir, ".dockerignore"),
  ];
  for (const file of candidates) {
    let text: string;
    try {
      text = readFileSync(file, "utf8"); // sync: a small file, read once per build before anything runs
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") continue;
      throw err;
    }
    const patterns = readDockerignore(text);
    return { patterns, file, matcher: compilePatterns(patterns, { file }) };
  }
  return { patterns: [], matcher: compilePatterns([]) };
}
