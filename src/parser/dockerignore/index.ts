export { compilePatterns, type PatternMatcher, type MatchInfo } from "./matcher.js";
export { readDockerignore, loadDockerignore, type LoadedDockerignore } from "./ignorefile.js";
export { DockerignorePatternError } from "./errors.js";
export { filepathMatch, hasMeta, BadPatternError } from "./filepath-match.js";
export { cleanPath, dirPath } from "./go-path.js";
export type { CompiledPattern, MatchType } from "./pattern.js";
