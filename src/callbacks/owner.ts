// Where an event's attempts are recorded: the outbox it came from. A tenant's events (its task ends and
// quota thresholds, and the operator's events about it) live in the tenant's object; the operator's
// events about no tenant (the upstream balance) in the Registry's. Both objects answer these two calls.
import type { Env } from "../env";
import { type TenantRef, tenantObject } from "../state/client";
import { getTenant } from "../tenants/lookup";
import type { Tenant } from "../tenants/schema";
import {
  type DeliveryEntry,
  type DeliveryOutcome,
  type DeliveryPage,
  REGISTRY_DELIVERIES,
} from "./delivery-log";
import type { WebhookMessage } from "./message";

export interface EventOwner {
  /**
   * Records an attempt; the owner's outbox learns that the event is settled, or when to expect more. The
   * recorded outcome is `held` when the event's endpoint is disabled: it waits in the outbox, unretried.
   */
  recordDelivery(entry: DeliveryEntry): Promise<{ outcome: DeliveryOutcome }>;
  /** The event was settled without an attempt (no destination). */
  eventSettled(eventId: string): Promise<void>;
}

/** The Registry's outbox: the two calls, and the event a delivery record of its own belongs to. */
export interface RegistryOutbox extends EventOwner {
  /** The kept event of delivery `deliveryId`, marked as a redelivery; null when unknown or expired. */
  redeliveryMessage(deliveryId: string): Promise<WebhookMessage | null>;
  /** Its delivery records, newest first (GET /admin/deliveries). */
  listDeliveries(limit: number, cursor?: number): Promise<DeliveryPage>;
}

/**
 * The name the Registry's events carry in `tenant_id`/`incarnation` (the message needs one; the consumer
 * finds the outbox by `origin: "registry"`, never by this name) and its delivery ids' suffix.
 */
export const REGISTRY_EVENTS: TenantRef = { id: REGISTRY_DELIVERIES, incarnation: "registry" };

/** The Registry's outbox, seen through its calls (the class sits above this layer). */
export function registryOutbox(env: Env): RegistryOutbox {
  return env.REGISTRY.get(env.REGISTRY.idFromName("registry")) as unknown as RegistryOutbox;
}

/**
 * What the queue consumers need to know of an event's origin: its tenant, when the event belongs to the
 * tenant's current life (null for the Registry's events, and once the tenant was deleted or re-created), and
 * the outbox that records its attempts — none for a tenant that is gone (writing would bring its object back).
 */
export async function eventOrigin(
  env: Env,
  m: WebhookMessage,
): Promise<{ tenant: Tenant | null; owner: EventOwner | null }> {
  if (m.origin === "registry") return { tenant: null, owner: registryOutbox(env) };
  const found = await getTenant(env, m.tenant_id);
  if (!found || found.incarnation !== m.incarnation) return { tenant: null, owner: null };
  return { tenant: found, owner: tenantObject(env, { id: m.tenant_id, incarnation: m.incarnation }) };
}
