// Where a task-ended event goes: the task's own callback_url, else the tenant's webhook.url. One rule for
// the consumer that delivers it and the dead-letter consumer that records where it failed to go.
import type { Tenant } from "../tenants/schema";
import type { WebhookMessage } from "./message";

export function webhookDestination(m: WebhookMessage, tenant: Tenant | null): string | null {
  return m.callback_url ?? tenant?.webhook?.url ?? null;
}
