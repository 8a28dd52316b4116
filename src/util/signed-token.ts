// The one form of the gateway's signed tokens (callback URLs, file URLs, result URLs): `{payload}.{mac}`, the
// payload base64url of a text, the MAC 16 bytes of HMAC-SHA256 over `{domain}\n{payload}`. Each use has its
// own domain, so a token of one kind never verifies as another, and reads its own text.
import { base64url, base64urlDecode, hmacSha256, safeEqual } from "./hmac";

const MAC_BYTES = 16;

async function macOf(secret: string, domain: string, payload: string): Promise<string> {
  const sig = await hmacSha256(secret, `${domain}\n${payload}`);
  return base64url(sig.subarray(0, MAC_BYTES));
}

export async function signToken(secret: string, domain: string, text: string): Promise<string> {
  const payload = base64url(new TextEncoder().encode(text));
  return `${payload}.${await macOf(secret, domain, payload)}`;
}

/**
 * The text of a genuine token of `domain`, or null: longer than `maxChars`, not one payload and one MAC, a MAC
 * that does not match (forged or altered), or a payload that is not base64url.
 */
export async function verifyToken(
  secret: string,
  domain: string,
  token: string,
  maxChars: number,
): Promise<string | null> {
  if (token.length > maxChars) return null;
  const [payload, tag, extra] = token.split(".");
  if (!payload || !tag || extra !== undefined) return null;
  if (!(await safeEqual(await macOf(secret, domain, payload), tag))) return null;
  const bytes = base64urlDecode(payload);
  return bytes && new TextDecoder().decode(bytes);
}
