// One bounded fetch of a tenant's published key set: the URL rule every gateway-called URL follows (the one
// the admin API checked `jwks_uri` with), a timeout, a byte cap enforced while the body streams in, and the
// result parsed with JwksSchema. It never throws; failures come back as a reason.
import { checkGatewayUrl } from "../net/urls";
import { type PublicJwk, JwksSchema } from "../tenants/schema";
import { readBytesCapped } from "../util/stream";

export type FetchFn = (input: string, init: RequestInit) => Promise<Response>;

export interface JwksFetchOptions {
  fetch: FetchFn;
  timeoutMs: number;
  maxBytes: number;
  /** DEV_ALLOW_LOCAL_URLS: loopback key servers are fetched too, over http as well. */
  allowLocal: boolean;
}

export type JwksFetchResult =
  | { ok: true; jwks: { keys: PublicJwk[] } }
  /** unavailable: network, timeout, non-2xx. invalid: too large, not JSON, not a public JWKS. */
  | { ok: false; reason: "jwks_unavailable" | "jwks_invalid" | "tenant_misconfigured" };

export async function fetchJwks(uri: string, options: JwksFetchOptions): Promise<JwksFetchResult> {
  const checked = checkGatewayUrl(uri, { allowLocal: options.allowLocal });
  if (!checked.ok) return { ok: false, reason: "tenant_misconfigured" };
  // One deadline for the whole exchange: the response headers and every chunk of the body.
  const signal = AbortSignal.timeout(options.timeoutMs);
  let response: Response;
  try {
    response = await options.fetch(checked.url.href, {
      method: "GET",
      headers: { accept: "application/jwk-set+json, application/json" },
      // A key server that redirects is treated as down rather than followed somewhere unchecked.
      redirect: "manual",
      signal,
    });
  } catch {
    return { ok: false, reason: "jwks_unavailable" };
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => {});
    return { ok: false, reason: "jwks_unavailable" };
  }
  let text: string | null;
  try {
    text = await readCapped(response, options.maxBytes, signal);
  } catch {
    return { ok: false, reason: "jwks_unavailable" };
  }
  if (text === null) return { ok: false, reason: "jwks_invalid" };
  return parseJwks(text);
}

/** The body as UTF-8, or null when it exceeds `maxBytes` (declared or actual) or is not valid UTF-8. */
async function readCapped(response: Response, maxBytes: number, signal: AbortSignal): Promise<string | null> {
  const declared = Number(response.headers.get("content-length") ?? "0");
  if (declared > maxBytes) {
    await response.body?.cancel().catch(() => {});
    return null;
  }
  const bytes = await readBytesCapped(response.body, maxBytes, signal);
  if (bytes === null) return null;
  try {
    return new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    return null;
  }
}

function parseJwks(text: string): JwksFetchResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, reason: "jwks_invalid" };
  }
  const parsed = JwksSchema.safeParse(json);
  return parsed.success ? { ok: true, jwks: parsed.data } : { ok: false, reason: "jwks_invalid" };
}
