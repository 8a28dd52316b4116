// Standard Webhooks signing (https://www.standardwebhooks.com): HMAC-SHA256 with the base64 key after
// `whsec_` over `{webhook-id}.{webhook-timestamp}.{body}`, sent as `v1,<base64>`. Several space-separated
// signatures let receivers roll a secret over: after a rotation both the new and the previous secret sign.
import type { Tenant } from "../tenants/schema";

const encoder = new TextEncoder();

/** The secrets that sign at `now`: the current one, and the previous one until its window closes. */
export function signingSecrets(webhook: NonNullable<Tenant["webhook"]>, now: number): string[] {
  const secrets = [webhook.secret];
  if (webhook.previous_secret && (webhook.previous_expires_at ?? 0) > now)
    secrets.push(webhook.previous_secret);
  return secrets;
}

function keyBytes(secret: string): Uint8Array {
  const b64 = secret.startsWith("whsec_") ? secret.slice("whsec_".length) : secret;
  return Uint8Array.from(atob(b64), (ch) => ch.charCodeAt(0));
}

/** One `v1,<base64>` signature of a message. */
export async function signOne(secret: string, id: string, timestamp: number, body: string): Promise<string> {
  const key = await crypto.subtle.importKey(
    "raw",
    keyBytes(secret),
    { name: "HMAC", hash: "SHA-256" },
    false,
    ["sign"],
  );
  const mac = new Uint8Array(
    await crypto.subtle.sign("HMAC", key, encoder.encode(`${id}.${timestamp}.${body}`)),
  );
  let bin = "";
  for (const b of mac) bin += String.fromCharCode(b);
  return `v1,${btoa(bin)}`;
}

/** The three Standard Webhooks headers for one attempt (`timestamp` in whole seconds). */
export async function webhookHeaders(
  secrets: readonly string[],
  id: string,
  timestamp: number,
  body: string,
): Promise<Record<string, string>> {
  const signatures = await Promise.all(secrets.map((s) => signOne(s, id, timestamp, body)));
  return {
    "webhook-id": id,
    "webhook-timestamp": String(timestamp),
    "webhook-signature": signatures.join(" "),
  };
}
