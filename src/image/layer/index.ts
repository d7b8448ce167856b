/** Layers: writing a directory as a layer blob, and applying a layer blob to a directory. */
export { writeLayer, hashLayer, layerTar, type WriteLayerOptions, type WrittenLayer } from "./writer.js";
export { applyLayer, type ApplyLayerOptions } from "./applier.js";
export {
  compressor,
  decompressor,
  decompress,
  detectCompression,
  layerMediaType,
  mediaTypeCompression,
  DEFAULT_GZIP_LEVEL,
  DEFAULT_ZSTD_LEVEL,
  type Compression,
} from "./compression.js";
export { FsUtil, fsutilPath, type XattrRecord } from "./fsutil.js";
export { cleanEntryName, resolveDirInRoot } from "./path-safety.js";
export { readTar, type TarEntry } from "./tar-reader.js";
export { encodeHeader, type TarHeader, type EntryType } from "./tar-format.js";
export { walkTree, type WalkEntry } from "./walk.js";
export { WHITEOUT_PREFIX, OPAQUE_WHITEOUT, OPAQUE_XATTRS, LAYER_XATTRS } from "./tar-entry.js";
