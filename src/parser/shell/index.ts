export { ShellLex, type ShellWordResult } from "./lex.js";
export { ShellExpansionError, type ShellErrorCode } from "./errors.js";
