/**
 * Recipes for blobs the content store holds lazily (see content-store.ts): how to produce the
 * bytes again when something reads them. The only kind is an uncompressed layer tar of a
 * committed snapshot's layer directory, which the layer writer reproduces byte for byte.
 */
import { existsSync } from "node:fs";
import { isAbsolute, resolve } from "node:path";
import { layerTar } from "./layer/writer.js";

export interface LazyRecipe {
  kind: "layer-tar";
  /** The layer directory, relative to the content store's directory (roots can be moved). */
  dir: string;
  /** The snapshot that owns `dir`; pruning it first writes the blob (cache prune). */
  snapshot: string;
  sourceDateEpoch?: number;
  /** Size of the blob in bytes (filled in by putLazy). */
  size?: number;
}

/** False when the recipe's source is gone (its blob can no longer be produced). */
export function lazyRecipeUsable(r: LazyRecipe, storeDir: string): boolean {
  return r.kind === "layer-tar" && existsSync(recipeDir(r, storeDir));
}

/** The blob's bytes, produced from the recipe. */
export async function* produceLazyBlob(r: LazyRecipe, storeDir: string): AsyncGenerator<Buffer> {
  yield* await layerTar(recipeDir(r, storeDir), r.sourceDateEpoch !== undefined ? { sourceDateEpoch: r.sourceDateEpoch } : {});
}

function recipeDir(r: LazyRecipe, storeDir: string): string {
  return isAbsolute(r.dir) ? r.dir : resolve(storeDir, r.dir);
}
