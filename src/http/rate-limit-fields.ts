// RateLimit-Policy and RateLimit response fields (IETF httpapi ratelimit-headers draft: structured-field
// lists), written in one place for every limit that reports itself: creation's request rate and concurrency
// (src/quota/headers.ts) and the read limits (./read-limit.ts).

/** One policy and its state, e.g. `"tenant-rpm";q=60;w=60` and `"tenant-rpm";r=59;t=60`. */
export interface LimitField {
  /** The policy's name: `<scope>-<what>`. */
  name: string;
  /** How much the policy allows (`q`). */
  quota: number;
  /** The window in seconds (`w`); absent for a quota that is not a rate. */
  windowS?: number;
  /** The quota's unit (`qu`) when it is not requests, e.g. `concurrent-requests`. */
  unit?: string;
  /** What is left (`r`). */
  remaining: number;
  /** Seconds until more is allowed (`t`); absent when nothing says. */
  resetS?: number;
}

/** The two fields for the items, or none when there are none. */
export function rateLimitFields(items: readonly LimitField[]): Record<string, string> {
  if (items.length === 0) return {};
  return {
    "RateLimit-Policy": items.map(policy).join(", "),
    RateLimit: items.map(state).join(", "),
  };
}

function policy(i: LimitField): string {
  const window = i.windowS === undefined ? "" : `;w=${i.windowS}`;
  const unit = i.unit === undefined ? "" : `;qu="${i.unit}"`;
  return `"${i.name}";q=${i.quota}${window}${unit}`;
}

function state(i: LimitField): string {
  return `"${i.name}";r=${i.remaining}${i.resetS === undefined ? "" : `;t=${i.resetS}`}`;
}
