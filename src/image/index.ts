/** The image module: content store, layers, configs and manifests, layouts, archives, the local image store. */
export * from "./types.js";
export { openContentStore, type ContentStore, type BlobInfo, type Expected } from "./content-store.js";
export * from "./layer/index.js";
export {
  newImage,
  newImageConfig,
  withConfig,
  addHistory,
  appendLayer,
  withSourceDateEpoch,
  withCreated,
  formatEpoch,
  configPlatform,
  serializeConfig,
  configDigest,
  type ContainerConfigPatch,
  type AppendedLayer,
} from "./config.js";
export {
  buildManifest,
  buildIndex,
  parseManifest,
  parseIndex,
  parseConfig,
  convertLayerMediaType,
  manifestMediaType,
  indexMediaType,
  configMediaType,
  isIndexMediaType,
  isManifestMediaType,
  type BuiltManifest,
  type ManifestOptions,
} from "./manifest.js";
export { hostPlatform, formatPlatform, platformMatches, selectPlatform } from "./platform.js";
export { readImage, resolveManifest, reachableBlobs, type ReadImage } from "./read-image.js";
export {
  parseImageName,
  normalizeImageName,
  formatImageName,
  repositoryOf,
  familiarName,
  familiarRepository,
  type ImageName,
} from "./image-name.js";
export {
  writeOciLayout,
  writeOciTar,
  readLayoutIndex,
  layoutDescriptor,
  OCI_LAYOUT_BYTES,
  type LayoutEntry,
  type LayoutOptions,
} from "./oci-layout.js";
export { writeLayoutTar, type TarContents, type TarDestination } from "./layout-tar.js";
export {
  writeDockerArchive,
  type DockerArchiveImage,
  type DockerArchiveOptions,
  type DockerManifestEntry,
} from "./docker-archive.js";
export { openImageStore, withLock, type ImageStore, type ImageRecord } from "./image-store.js";
export { loadImageArchive, saveImage, type LoadedImage, type SaveOptions } from "./image-archive.js";
export { loadOciLayoutImage, parseOciLayoutRef, type LocalLayoutImage } from "./base-image-local.js";
