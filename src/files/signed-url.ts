// The gateway's own file URLs (R2 backend): `{PUBLIC_BASE_URL}/files/{token}/{name}`, where the token names
// the tenant and its incarnation, the file, a keyed tag of the uploader's `sub` (the URL travels to the
// upstream: the user's id must not) and the expiry, and carries an HMAC over all of it and the tenant's
// binding. The upstream fetches the video from there; nobody else can mint or alter one.
// `fileUrlMac` is the ONE place these URLs are signed: its `binding` is the tenant id. The incarnation is
// in the signed payload rather than the binding, so a token is checked with no I/O, and only a genuine one
// costs the route its (cached) look-up of the tenant's current incarnation: a URL of a deleted tenant, or
// of its earlier life, is then a 404 even if its bytes were still stored.
import { sameHost } from "../net/urls";
import { base64url, base64urlDecode, hmacSha256, safeEqual } from "../util/hmac";

const MAC_BYTES = 16;
const MAX_TOKEN_CHARS = 1024;
export const FILE_URL_PATH = "/files/";

export interface FileUrlClaims {
  tenantId: string;
  /** The tenant's life the file belongs to (a re-created tenant's old URLs name the old one). */
  incarnation: string;
  fileId: string;
  /** `subTag(sub)` of the uploader, null for a file uploaded without a `sub`. */
  subTag: string | null;
  /** Unix ms; the URL stops working then (the file's own expiry). */
  expiresAt: number;
}

/** The string every file URL MAC covers besides the payload: today the tenant id. */
export function fileBinding(tenantId: string): string {
  return tenantId;
}

/**
 * A keyed, non-reversible stand-in for a `sub` in file URLs, through the same MAC (`sub:` cannot begin a
 * base64url token payload, so a tag is never a token's MAC).
 */
export function subTag(secret: string, tenantId: string, sub: string): Promise<string> {
  return fileUrlMac(secret, fileBinding(tenantId), `sub:${sub}`);
}

/** The one signing function of file URLs. */
async function fileUrlMac(secret: string, binding: string, payload: string): Promise<string> {
  const sig = await hmacSha256(secret, `file-url/v1\n${binding}\n${payload}`);
  return base64url(sig.subarray(0, MAC_BYTES));
}

export async function signFileToken(secret: string, claims: FileUrlClaims): Promise<string> {
  const text = JSON.stringify([
    claims.tenantId,
    claims.incarnation,
    claims.fileId,
    claims.subTag,
    Math.floor(claims.expiresAt / 1000),
  ]);
  const payload = base64url(new TextEncoder().encode(text));
  return `${payload}.${await fileUrlMac(secret, fileBinding(claims.tenantId), payload)}`;
}

/** The claims of a genuine, unexpired token, or null (forged, altered, malformed or expired alike). */
export async function verifyFileToken(
  secret: string,
  token: string,
  now: number,
): Promise<FileUrlClaims | null> {
  if (token.length > MAX_TOKEN_CHARS) return null;
  const [payload, tag, extra] = token.split(".");
  if (!payload || !tag || extra !== undefined) return null;
  const claims = decode(payload);
  if (!claims) return null;
  const expected = await fileUrlMac(secret, fileBinding(claims.tenantId), payload);
  if (!(await safeEqual(expected, tag))) return null;
  return claims.expiresAt > now ? claims : null;
}

function decode(payload: string): FileUrlClaims | null {
  const bytes = base64urlDecode(payload);
  if (!bytes) return null;
  try {
    const v: unknown = JSON.parse(new TextDecoder().decode(bytes));
    if (!Array.isArray(v) || v.length !== 5) return null;
    const [tenantId, incarnation, fileId, sub, exp] = v as unknown[];
    if (typeof tenantId !== "string" || typeof incarnation !== "string" || typeof fileId !== "string")
      return null;
    if (sub !== null && typeof sub !== "string") return null;
    if (typeof exp !== "number" || !Number.isInteger(exp)) return null;
    return { tenantId, incarnation, fileId, subTag: sub, expiresAt: exp * 1000 };
  } catch {
    return null;
  }
}

/** A file name safe in a URL path segment (the name is cosmetic: the token alone names the file). */
export function urlSafeName(name: string, ext: string): string {
  const base =
    name
      .replace(/\.[A-Za-z0-9]{1,5}$/, "")
      .replace(/[^A-Za-z0-9._-]+/g, "_")
      .slice(0, 80) || "file";
  return `${base}.${ext}`;
}

export async function fileUrl(
  publicBaseUrl: string,
  secret: string,
  claims: FileUrlClaims,
  name: string,
): Promise<string> {
  return `${publicBaseUrl}${FILE_URL_PATH}${await signFileToken(secret, claims)}/${name}`;
}

/**
 * Where a URL stands with respect to the gateway's own file URLs: on another host (`foreign`, not the
 * gateway's business); exactly the form `fileUrl` mints (`file`, with its token still to verify); or on the
 * gateway's host in any other form (`other`). The gateway's router and the platform in front of it read
 * "%66iles", "http:" and "gw.example." as the file URL they spell, so those spellings are `other`, never
 * `foreign`: a caller must not slip someone else's file past the ownership check by respelling it.
 */
export type GatewayUrl = { kind: "foreign" } | { kind: "file"; token: string } | { kind: "other" };

/** base64url payload "." base64url MAC, then the cosmetic name `urlSafeName` produces. */
const FILE_PATH_TAIL = /^([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)\/[A-Za-z0-9._-]+$/;

export function gatewayUrl(url: URL, publicBaseUrl: string): GatewayUrl {
  const base = new URL(publicBaseUrl);
  if (!sameHost(url.hostname, base.hostname)) return { kind: "foreign" };
  const prefix = `${base.pathname.replace(/\/+$/, "")}${FILE_URL_PATH}`;
  const canonical =
    url.origin === base.origin && url.search === "" && url.hash === "" && url.pathname.startsWith(prefix);
  const tail = canonical ? FILE_PATH_TAIL.exec(url.pathname.slice(prefix.length)) : null;
  return tail ? { kind: "file", token: tail[1]! } : { kind: "other" };
}
