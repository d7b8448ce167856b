/**
 * A layer's diffID from the native addon (native/layerhash.c), computed on a libuv thread: the
 * same sha256 and size as hashLayer's JavaScript tar, for trees of directories, singly linked
 * files and symlinks whose names fit ustar and that carry no xattrs. For anything else the addon
 * answers null and the caller hashes in JavaScript. Large-context cold build (a 25,000-file COPY,
 * then a RUN): see the commit adding this.
 */
import type { Digest } from "../../internal/digest.js";
import { fsAddon } from "../../internal/fs-addon.js";

/**
 * The diffID and tar size of `dir`'s layer, or undefined when the addon is missing, disabled
 * (`TSBUILD_NO_NATIVE_LAYER_HASH`), the tree holds something only the JavaScript writer handles,
 * or `signal` aborted the walk.
 */
export async function nativeLayerHash(
  dir: string,
  opts: {
    sourceDateEpoch?: number | undefined;
    signal?: AbortSignal | undefined;
    /** The caller knows no entry has an xattr (a COPY's layer); otherwise every entry is checked and any xattr declines. */
    withoutXattrs?: boolean | undefined;
  } = {},
): Promise<{ diffId: Digest; size: number } | undefined> {
  const addon = fsAddon();
  if (!addon || process.env.TSBUILD_NO_NATIVE_LAYER_HASH) return undefined;
  const cancel = new Int32Array(new SharedArrayBuffer(4));
  const stop = () => Atomics.store(cancel, 0, 1);
  if (opts.signal?.aborted) return undefined;
  opts.signal?.addEventListener("abort", stop, { once: true });
  try {
    const answer = await addon.hashLayerTar(dir, opts.sourceDateEpoch ?? -1, cancel, opts.withoutXattrs !== true);
    return answer ? { diffId: `sha256:${answer[0]}`, size: answer[1] } : undefined;
  } finally {
    opts.signal?.removeEventListener("abort", stop);
  }
}
