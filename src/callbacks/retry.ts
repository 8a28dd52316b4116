// What one webhook attempt's result means, and when the next attempt happens: pure functions over plain
// data (the randomness for jitter is passed in), so the delivery rules can be read and tested in one place.
import { QUEUE_MAX_DELAY_SECONDS, WEBHOOK_RETRY_JITTER } from "../config/constants";

/** How one attempt ended, as seen from the gateway. */
export type AttemptResult =
  | { kind: "response"; status: number }
  | { kind: "timeout" }
  | { kind: "network_error" }
  | { kind: "url_rejected"; reason: string };

/** `delivered`: done. `permanent`: retrying cannot help. `transient`: try again later. */
export type Verdict = "delivered" | "permanent" | "transient";

export function classify(result: AttemptResult): Verdict {
  switch (result.kind) {
    case "response": {
      const s = result.status;
      if (s >= 200 && s < 300) return "delivered";
      if (s >= 500 || s === 408 || s === 429) return "transient";
      // Other 4xx: the receiver refuses the event. 1xx/3xx: redirects are not followed (a redirect could
      // lead anywhere, past the URL rules), so a receiver that redirects is misconfigured.
      return "permanent";
    }
    case "timeout":
    case "network_error":
      return "transient";
    case "url_rejected":
      return "permanent";
  }
}

/**
 * Seconds to wait after failed attempt `attempt` (1-based), spread by ± WEBHOOK_RETRY_JITTER with
 * `random` in [0, 1); null when the schedule is exhausted (the message then goes to the dead-letter queue).
 */
export function retryDelaySeconds(
  schedule: readonly number[],
  attempt: number,
  random: number,
): number | null {
  const base = schedule[attempt - 1];
  if (base === undefined) return null;
  const spread = 1 - WEBHOOK_RETRY_JITTER + 2 * WEBHOOK_RETRY_JITTER * random;
  return Math.min(QUEUE_MAX_DELAY_SECONDS, Math.max(0, Math.round(base * spread)));
}

/** A short, secret-free description of a failed attempt for the delivery record. */
export function describeFailure(result: AttemptResult): string | null {
  switch (result.kind) {
    case "response":
      return result.status >= 200 && result.status < 300 ? null : `HTTP ${result.status}`;
    case "timeout":
      return "timed out";
    case "network_error":
      return "network error";
    case "url_rejected":
      return `destination refused: ${result.reason}`;
  }
}
