/**
 * docker-archive (`docker save` / `docker load`), written in the Docker Engine 25+ form: an OCI
 * layout tar plus `manifest.json` ([{Config, RepoTags, Layers}]) and `repositories`, all paths
 * pointing at `blobs/sha256/<hex>`. Older loaders read manifest.json; newer ones also the layout.
 */
import { canonicalJson } from "../internal/canonical-json.js";
import { digestHex } from "../internal/digest.js";
import type { ContentStore } from "./content-store.js";
import { familiarName, parseImageName, familiarRepository, normalizeImageName } from "./image-name.js";
import { writeOciTar, type LayoutEntry } from "./oci-layout.js";
import { readImage } from "./read-image.js";
import type { TarDestination } from "./layout-tar.js";
import type { Descriptor, Platform } from "./types.js";

/** One entry of a docker-archive `manifest.json`. */
export interface DockerManifestEntry {
  Config: string;
  RepoTags: string[] | null;
  Layers: string[];
}

export interface DockerArchiveImage {
  /** Image manifest or index (an index is resolved to `platform`, docker-archive holds one platform). */
  manifest: Descriptor;
  /** Names to record, e.g. `app:latest`; written in Docker's short form. */
  repoTags: string[];
}

interface ArchiveCommon {
  store: ContentStore;
  /** Platform to pick from an index; the host's by default. */
  platform?: Platform;
  /** mtime of every tar entry (seconds; default 0). */
  mtime?: number;
}

/** Several images (`images`), or one (`manifest` + `repoTags`). */
export type DockerArchiveOptions = ArchiveCommon & ({ images: DockerArchiveImage[] } | DockerArchiveImage);

const blobPath = (d: Descriptor) => `blobs/sha256/${digestHex(d.digest)}`;

/** Writes a `docker load`-able tar holding `images`. */
export async function writeDockerArchive(dest: TarDestination, opts: DockerArchiveOptions): Promise<DockerManifestEntry[]> {
  const records: DockerManifestEntry[] = [];
  const layoutEntries: LayoutEntry[] = [];
  const repositories: Record<string, Record<string, string>> = {};
  const list = "images" in opts ? opts.images : [{ manifest: opts.manifest, repoTags: opts.repoTags }];
  for (const img of list) {
    const read = await readImage(opts.store, img.manifest, opts.platform ? { platform: opts.platform } : {});
    const tags = img.repoTags.map((t) => familiarName(normalizeImageName(t)));
    records.push({ Config: blobPath(read.manifest.config), RepoTags: tags, Layers: read.manifest.layers.map(blobPath) });
    const top = read.manifest.layers.at(-1);
    for (const t of img.repoTags) {
      const full = normalizeImageName(t);
      layoutEntries.push({ descriptor: read.descriptor, imageName: full });
      const tag = parseImageName(full).tag;
      if (top && tag) (repositories[familiarRepository(full)] ??= {})[tag] = digestHex(top.digest);
    }
    if (img.repoTags.length === 0) layoutEntries.push({ descriptor: read.descriptor });
  }
  const extraFiles = new Map<string, Uint8Array>([
    ["manifest.json", Buffer.from(JSON.stringify(records) + "\n", "utf8")],
    ["repositories", Buffer.from(canonicalJson(repositories) + "\n", "utf8")],
  ]);
  await writeOciTar(dest, { store: opts.store, manifests: layoutEntries, extraFiles, mtime: opts.mtime ?? 0 });
  return records;
}
