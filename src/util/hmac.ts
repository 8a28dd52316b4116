// HMAC-SHA256 helpers over the gateway's SIGNING_SECRET, with the imported CryptoKey cached per secret so
// the hot path pays for key import once per isolate. Also base32 (hand-written: jose has none) and base64url
// (jose's) encoders used by signed ids.
import { base64url as joseBase64url } from "jose";

const keyCache = new Map<string, Promise<CryptoKey>>();
const encoder = new TextEncoder();

function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    keyCache.set(secret, key);
  }
  return key;
}

export async function hmacSha256(secret: string, message: string): Promise<Uint8Array> {
  const sig = await crypto.subtle.sign("HMAC", await hmacKey(secret), encoder.encode(message));
  return new Uint8Array(sig);
}

const BASE32 = "abcdefghijklmnopqrstuvwxyz234567";

/** Lowercase RFC 4648 base32 without padding (fits EvoLink's `[a-z0-9]` id alphabet). */
export function base32(bytes: Uint8Array): string {
  let out = "";
  let bits = 0;
  let value = 0;
  for (const b of bytes) {
    value = (value << 8) | b;
    bits += 8;
    while (bits >= 5) {
      out += BASE32[(value >>> (bits - 5)) & 31];
      bits -= 5;
    }
  }
  if (bits > 0) out += BASE32[(value << (5 - bits)) & 31];
  return out;
}

/** The inverse of `base32`, or null for anything that is not its output. */
export function base32Decode(s: string): Uint8Array | null {
  const out = new Uint8Array(Math.floor((s.length * 5) / 8));
  let bits = 0;
  let value = 0;
  let at = 0;
  for (const ch of s) {
    const v = BASE32.indexOf(ch);
    if (v < 0) return null;
    value = ((value << 5) | v) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      out[at++] = (value >>> (bits - 8)) & 0xff;
      bits -= 8;
    }
  }
  // Leftover bits are padding: they must be zero, so each byte string has exactly one spelling.
  return bits < 5 && (value & ((1 << bits) - 1)) === 0 ? out : null;
}

/** base64url without padding (RFC 4648 §5), by jose. */
export function base64url(bytes: Uint8Array): string {
  return joseBase64url.encode(bytes);
}

/**
 * The bytes of unpadded base64url, or null for anything else: jose's decoder throws on bad input, and would
 * also take "=" padding and whitespace, which the alphabet check keeps out.
 */
export function base64urlDecode(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9_-]*$/.test(s)) return null;
  try {
    return joseBase64url.decode(s);
  } catch {
    return null;
  }
}

/** Constant-time string comparison (both sides hashed first so lengths leak nothing). */
export async function safeEqual(a: string, b: string): Promise<boolean> {
  const [ha, hb] = await Promise.all([
    crypto.subtle.digest("SHA-256", encoder.encode(a)),
    crypto.subtle.digest("SHA-256", encoder.encode(b)),
  ]);
  return crypto.subtle.timingSafeEqual(ha, hb);
}

export function randomBytes(n: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(n));
}
