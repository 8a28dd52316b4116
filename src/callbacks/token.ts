// The callback URL handed to the upstream carries a signed token naming the tenant, its incarnation and the
// task's row, so the gateway can tell its own callback URLs from forged or altered ones before touching any
// state, and a callback for a deleted tenant's task reaches nothing of a re-created one.
import { signToken, verifyToken } from "../util/signed-token";

const DOMAIN = "callback";

export interface CallbackClaims {
  tenantId: string;
  incarnation: string;
  /** The task's row key in its tenant's object. */
  taskId: string;
}

export function signCallbackToken(secret: string, claims: CallbackClaims): Promise<string> {
  return signToken(secret, DOMAIN, `${claims.tenantId}\n${claims.incarnation}\n${claims.taskId}`);
}

export async function verifyCallbackToken(secret: string, token: string): Promise<CallbackClaims | null> {
  const text = await verifyToken(secret, DOMAIN, token, 512);
  if (text === null) return null;
  const [tenantId, incarnation, taskId, more] = text.split("\n");
  if (!tenantId || !incarnation || !taskId || more !== undefined) return null;
  return { tenantId, incarnation, taskId };
}

export function callbackUrl(publicBaseUrl: string, token: string): string {
  return `${publicBaseUrl}/callbacks/upstream/${token}`;
}
