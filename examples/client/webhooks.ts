// Verifying reelgate's task-ended webhooks with the `standardwebhooks` package: the tenant's `whsec_`
// secret, the `webhook-id`, `webhook-timestamp` and `webhook-signature` headers, and the raw body (verify
// before parsing, and dedupe on webhook-id: a retry carries the same one).
import { Webhook } from "standardwebhooks";

export interface TaskEndedEvent {
  id: string;
  status: "completed" | "failed" | "cancelled";
  model: string;
  results?: string[];
  error?: { code: string; message: string; type: string } | null;
  [field: string]: unknown;
}

/** The verified event, or throws (bad signature, or a timestamp more than 5 minutes off). */
export function verifyWebhook(secret: string, headers: Headers, rawBody: string): TaskEndedEvent {
  const wh = new Webhook(secret);
  return wh.verify(rawBody, {
    "webhook-id": headers.get("webhook-id") ?? "",
    "webhook-timestamp": headers.get("webhook-timestamp") ?? "",
    "webhook-signature": headers.get("webhook-signature") ?? "",
  }) as TaskEndedEvent;
}
