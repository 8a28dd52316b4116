// Portal tokens (docs/portal.md): the credential of a tenant portal link, `/portal/{tenant_id}#<token>`. The
// gateway's one signed token form (src/util/signed-token.ts) under its own domain, over the tenant, its
// incarnation, the issue time, the expiry and the capabilities. Pure: the clock is passed in, and whether
// the tenant still is that incarnation and has not revoked its links since is checked against its record.
import type { Tenant } from "../tenants/schema";
import { signToken, verifyToken } from "../util/signed-token";

const DOMAIN = "portal-link/v1";
const MAX_TOKEN_CHARS = 512;

/** What a link lets its holder do; `read` is always included. */
export const CAPABILITIES = ["read", "redeliver", "rotate_secret", "edit_webhook"] as const;
export type Capability = (typeof CAPABILITIES)[number];

export interface PortalClaims {
  tenantId: string;
  incarnation: string;
  /** Unix ms: compared with the tenant's `portal.links_valid_after` (a revocation). */
  issuedAt: number;
  /** Unix ms, whole seconds. */
  expiresAt: number;
  capabilities: Capability[];
}

/** `read` first, then the others in CAPABILITIES order, each once. */
export function normalCapabilities(asked: readonly Capability[]): Capability[] {
  return CAPABILITIES.filter((c) => c === "read" || asked.includes(c));
}

export function signPortalToken(secret: string, c: PortalClaims): Promise<string> {
  const text = JSON.stringify([
    c.tenantId,
    c.incarnation,
    c.issuedAt,
    Math.floor(c.expiresAt / 1000),
    normalCapabilities(c.capabilities).map((cap) => CAPABILITIES.indexOf(cap)),
  ]);
  return signToken(secret, DOMAIN, text);
}

/** Why a token is refused: logged, never told (every refusal is the same 401). */
export type PortalRefusal = "malformed" | "expired" | "tenant_gone" | "old_incarnation" | "revoked";

/** The claims of a genuine, unexpired token (forged, altered, malformed: "malformed"). */
export async function openPortalToken(
  secret: string,
  token: string,
  now: number,
): Promise<PortalClaims | "malformed" | "expired"> {
  const text = await verifyToken(secret, DOMAIN, token, MAX_TOKEN_CHARS);
  const claims = text === null ? null : decode(text);
  if (!claims) return "malformed";
  return claims.expiresAt > now ? claims : "expired";
}

/** Whether the tenant's current record still honours a token: same life, issued after the last revocation. */
export function honoured(claims: PortalClaims, tenant: Tenant | null): PortalRefusal | null {
  if (!tenant) return "tenant_gone";
  if (tenant.incarnation !== claims.incarnation) return "old_incarnation";
  const after = tenant.portal?.links_valid_after;
  if (after !== undefined && claims.issuedAt <= after) return "revoked";
  return null;
}

function decode(text: string): PortalClaims | null {
  try {
    const v: unknown = JSON.parse(text);
    if (!Array.isArray(v) || v.length !== 5) return null;
    const [tenantId, incarnation, issuedAt, expires, caps] = v as unknown[];
    if (typeof tenantId !== "string" || typeof incarnation !== "string") return null;
    if (!Number.isInteger(issuedAt) || !Number.isInteger(expires) || !Array.isArray(caps)) return null;
    const capabilities = caps.map((i) => (Number.isInteger(i) ? CAPABILITIES[i as number] : undefined));
    if (capabilities.some((c) => c === undefined)) return null;
    return {
      tenantId,
      incarnation,
      issuedAt: issuedAt as number,
      expiresAt: (expires as number) * 1000,
      capabilities: capabilities as Capability[],
    };
  } catch {
    return null;
  }
}
