// The Worker's one way to reach a tenant's Durable Object. The object is named by tenant id *and*
// incarnation, so a re-created tenant gets a fresh, empty object and nothing of the old one is reachable
// through the new one. Worker-side code calls this module and never imports the object's class.
import type { Env } from "../env";

/** Which tenant, and which life of it (`incarnation` is set when the tenant is created). */
export interface TenantRef {
  id: string;
  incarnation: string;
}

const SEPARATOR = "~";

export function objectName(t: TenantRef): string {
  return `${t.id}${SEPARATOR}${t.incarnation}`;
}

/** The tenant an object serves, from its name; an object without one is a bug, so this throws. */
export function tenantOfObject(name: string | undefined): TenantRef {
  const at = name?.indexOf(SEPARATOR) ?? -1;
  const id = at > 0 ? name!.slice(0, at) : "";
  const incarnation = at > 0 ? name!.slice(at + 1) : "";
  if (!id || !incarnation)
    throw new Error(
      `TenantState object has no tenant name (${JSON.stringify(name ?? null)}): use tenantObject()`,
    );
  return { id, incarnation };
}

export type TenantObject = ReturnType<Env["TENANT_STATE"]["get"]>;

export function tenantObject(env: Env, t: TenantRef): TenantObject {
  return env.TENANT_STATE.get(env.TENANT_STATE.idFromName(objectName(t)));
}
