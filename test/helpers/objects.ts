// Reaching a tenant's Durable Object from a test, the way the Worker does (src/state/client.ts): by tenant
// id and the incarnation in its record. A bare object (no tenant record, for tests that drive the object
// directly) gets a fixed incarnation.
import { env } from "cloudflare:workers";
import { type TenantObject, tenantObject } from "../../src/state/client";
import { openTaskId } from "../../src/tasks/ids";
import { getTenant } from "../../src/tenants/lookup";

export const BARE_INCARNATION = "bareobject0";

export async function objectOf(tenantId: string): Promise<TenantObject> {
  const tenant = await getTenant(env, tenantId);
  return tenantObject(env, { id: tenantId, incarnation: tenant?.incarnation ?? BARE_INCARNATION });
}

/** The row key inside a tenant's object of the task a public id names (the Worker opens ids the same way). */
export async function rowOf(tenantId: string, publicId: string): Promise<string> {
  const tenant = await getTenant(env, tenantId);
  const binding = { tenantId, incarnation: tenant?.incarnation ?? BARE_INCARNATION };
  const claims = await openTaskId(env.SIGNING_SECRET as string, binding, publicId);
  if (!claims) throw new Error(`not a task id of ${tenantId}: ${publicId}`);
  return claims.row;
}
