// The gateway's own file URLs (R2 backend): `{PUBLIC_BASE_URL}/files/{token}/{name}`, where the token names
// the tenant and its incarnation, the file, a keyed tag of the uploader's `sub` (the URL travels to the
// upstream: the user's id must not) and the expiry, signed in the gateway's one token form
// (src/util/signed-token.ts). The upstream fetches the video from there; nobody else can mint or alter one.
// The incarnation is in the signed payload, so a token is checked with no I/O, and only a genuine one costs
// the route its (cached) look-up of the tenant's current incarnation: a URL of a deleted tenant, or of its
// earlier life, is then a 404 even if its bytes were still stored.
import { sameHost } from "../net/urls";
import { base64url, hmacSha256 } from "../util/hmac";
import { signToken, verifyToken } from "../util/signed-token";

const DOMAIN = "file-url/v1";
const TAG_BYTES = 16;
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

/**
 * A keyed, non-reversible stand-in for a `sub` in file URLs: an HMAC under the file URLs' own label and the
 * tenant id, so it is never a token's MAC (`sub:` cannot begin a base64url token payload).
 */
export async function subTag(secret: string, tenantId: string, sub: string): Promise<string> {
  const sig = await hmacSha256(secret, `${DOMAIN}\n${tenantId}\nsub:${sub}`);
  return base64url(sig.subarray(0, TAG_BYTES));
}

export function signFileToken(secret: string, claims: FileUrlClaims): Promise<string> {
  const text = JSON.stringify([
    claims.tenantId,
    claims.incarnation,
    claims.fileId,
    claims.subTag,
    Math.floor(claims.expiresAt / 1000),
  ]);
  return signToken(secret, DOMAIN, text);
}

/** The claims of a genuine, unexpired token, or null (forged, altered, malformed or expired alike). */
export async function verifyFileToken(
  secret: string,
  token: string,
  now: number,
): Promise<FileUrlClaims | null> {
  const text = await verifyToken(secret, DOMAIN, token, MAX_TOKEN_CHARS);
  const claims = text === null ? null : decode(text);
  if (!claims) return null;
  return claims.expiresAt > now ? claims : null;
}

function decode(text: string): FileUrlClaims | null {
  try {
    const v: unknown = JSON.parse(text);
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
