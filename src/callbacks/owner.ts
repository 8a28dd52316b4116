// Where an event's attempts are recorded: the outbox it came from. A tenant's events (its task ends and
// quota thresholds, and the operator's events about it) live in the tenant's object; the operator's
// events about no tenant (the upstream balance) in the Registry's. Both objects answer these two calls.
import type { Env } from "../env";
import type { DeliveryEntry } from "./delivery-log";

export interface EventOwner {
  /** Records an attempt; the owner's outbox learns that the event is settled, or when to expect more. */
  recordDelivery(entry: DeliveryEntry): Promise<unknown>;
  /** The event was settled without an attempt (no destination). */
  eventSettled(eventId: string): Promise<void>;
}

/** The Registry's outbox, seen through the two calls (the class sits above this layer). */
export function registryOutbox(env: Env): EventOwner {
  return env.REGISTRY.get(env.REGISTRY.idFromName("registry")) as unknown as EventOwner;
}
