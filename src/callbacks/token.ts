// The callback URL handed to the upstream carries a signed token naming the tenant, its incarnation and the
// task's row, so the gateway can tell its own callback URLs from forged or altered ones before touching any
// state, and a callback for a deleted tenant's task reaches nothing of a re-created one.
import { base64url, base64urlDecode, hmacSha256, safeEqual } from "../util/hmac";

const MAC_BYTES = 16;

export interface CallbackClaims {
  tenantId: string;
  incarnation: string;
  /** The task's row key in its tenant's object. */
  taskId: string;
}

export async function signCallbackToken(secret: string, claims: CallbackClaims): Promise<string> {
  const payload = base64url(
    new TextEncoder().encode(`${claims.tenantId}\n${claims.incarnation}\n${claims.taskId}`),
  );
  const sig = await hmacSha256(secret, `callback\n${payload}`);
  return `${payload}.${base64url(sig.subarray(0, MAC_BYTES))}`;
}

export async function verifyCallbackToken(secret: string, token: string): Promise<CallbackClaims | null> {
  if (token.length > 512) return null;
  const [payload, tag, extra] = token.split(".");
  if (!payload || !tag || extra !== undefined) return null;
  const sig = await hmacSha256(secret, `callback\n${payload}`);
  if (!(await safeEqual(base64url(sig.subarray(0, MAC_BYTES)), tag))) return null;
  const bytes = base64urlDecode(payload);
  if (!bytes) return null;
  const [tenantId, incarnation, taskId, more] = new TextDecoder().decode(bytes).split("\n");
  if (!tenantId || !incarnation || !taskId || more !== undefined) return null;
  return { tenantId, incarnation, taskId };
}

export function callbackUrl(publicBaseUrl: string, token: string): string {
  return `${publicBaseUrl}/callbacks/upstream/${token}`;
}
