/** The registry client: references, credentials, auth, pull and push. */
export {
  ImageReference,
  parseReference,
  apiHost,
  isLoopbackRegistry,
  DOCKER_HUB,
  DOCKER_HUB_API_HOST,
  DOCKER_HUB_CREDENTIAL_KEY,
} from "./reference.js";
export { resolveCredentials, runCredentialHelper, dockerConfigDir, credentialServerKey, type Credentials, type CredentialOptions } from "./credentials.js";
export { RegistryClient, parseChallenge, type RegistryClientOptions, type Endpoint, type RegistryRequest } from "./client.js";
export { RegistryError, type RegistryErrorDetail } from "./errors.js";
export { normalizePlatform, parsePlatform, defaultPlatform, platformRank, selectManifest, formatPlatformSpec, type PlatformSpec } from "./platform.js";
export { pullImage, MANIFEST_ACCEPT } from "./pull.js";
export { pushImage } from "./push.js";
export type { TransferEvent, TransferOptions, PullOptions, PulledImage, PushOptions, PushResult } from "./types.js";
