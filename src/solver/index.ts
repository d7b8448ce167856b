export { solve, SolveError } from "./solver.js";
export type { Vertex, VertexContext, CacheLookup, SolveOptions } from "./types.js";
