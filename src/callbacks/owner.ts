// Where an event's attempts are recorded: the outbox it came from. A tenant's events (its task ends and
// quota thresholds, and the operator's events about it) live in the tenant's object; the operator's
// events about no tenant (the upstream balance) in the Registry's. Both objects answer these two calls.
import type { Env } from "../env";
import type { TenantRef } from "../state/client";
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
