/**
 * Registry failures as TsbuildError with `registry/...` codes. The registry's own JSON error
 * codes (`{"errors":[{"code":"MANIFEST_INVALID",...}]}`) are kept in `registryCode`.
 */
import { TsbuildError } from "../errors/index.js";

export interface RegistryErrorDetail {
  code: string;
  message?: string;
  detail?: unknown;
}

export class RegistryError extends TsbuildError {
  /** HTTP status, when the failure came from a response. */
  readonly status?: number;
  /** The first error code from the registry's JSON body, e.g. `MANIFEST_INVALID`. */
  readonly registryCode?: string;
  readonly errors: RegistryErrorDetail[];
  constructor(
    code: string,
    message: string,
    options?: { cause?: unknown; status?: number; errors?: RegistryErrorDetail[] },
  ) {
    super(code, message, options);
    this.status = options?.status;
    this.errors = options?.errors ?? [];
    this.registryCode = this.errors[0]?.code;
  }
}

/** `MANIFEST_INVALID` → `registry/manifest-invalid`; the few common conditions get short codes. */
function codeFor(status: number, registryCode: string | undefined): string {
  if (status === 401 || registryCode === "UNAUTHORIZED") return "registry/unauthorized";
  if (status === 403 || registryCode === "DENIED") return "registry/denied";
  if (status === 429 || registryCode === "TOOMANYREQUESTS") return "registry/rate-limited";
  if (registryCode) return `registry/${registryCode.toLowerCase().replace(/_/g, "-")}`;
  if (status === 404) return "registry/not-found";
  return `registry/http-${status}`;
}

function parseErrors(body: string): RegistryErrorDetail[] {
  try {
    const json = JSON.parse(body) as { errors?: unknown };
    if (!Array.isArray(json.errors)) return [];
    return json.errors
      .filter((e): e is RegistryErrorDetail => typeof e === "object" && e !== null && typeof (e as RegistryErrorDetail).code === "string")
      .map((e) => ({ code: e.code, message: e.message, detail: e.detail }));
  } catch {
    return [];
  }
}

function describe(errors: RegistryErrorDetail[]): string {
  return errors
    .map((e) => {
      const detail = e.detail === undefined || e.detail === null || e.detail === "" ? "" : ` (${typeof e.detail === "string" ? e.detail : JSON.stringify(e.detail)})`;
      return `${e.code}: ${e.message ?? ""}${detail}`;
    })
    .join("; ");
}

/**
 * Turns a failed response into a RegistryError. `what` says what was being done, e.g.
 * `push manifest 127.0.0.1:5000/app:latest`; `name` is `registry/repository` for the auth hint.
 */
export async function errorFromResponse(res: Response, what: string, name: string): Promise<RegistryError> {
  const body = await res.text().catch(() => "");
  const errors = parseErrors(body);
  const code = codeFor(res.status, errors[0]?.code);
  let message: string;
  if (code === "registry/unauthorized") {
    message = `authentication required for ${name}: check your credentials (docker login) or DOCKER_CONFIG`;
  } else if (code === "registry/denied") {
    message = `access to ${name} denied: the credentials in use may not push or pull this repository`;
  } else {
    message = `${what}: HTTP ${res.status}`;
  }
  if (errors.length) message += `: ${describe(errors)}`;
  else if (body && body.length < 300 && !body.trimStart().startsWith("<")) message += `: ${body.trim()}`;
  return new RegistryError(code, message, { status: res.status, errors });
}
