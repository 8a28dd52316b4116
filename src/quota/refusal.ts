// A quota refusal on the wire: 429 with Retry-After for the request limits, 402 with the figures a client
// needs to show for credits (named like EvoLink's own quota errors: `error.details.*_credits`). The switch
// is exhaustive, so a new kind of refusal cannot go unrendered.
import { ApiError } from "../http/errors";
import { fromUnits, type Refusal } from "./arithmetic";

const WHO = { tenant: "the tenant", user: "this user" } as const;

export function refusalError(refusal: Refusal, headers: Record<string, string> = {}): ApiError {
  switch (refusal.limit) {
    case "requests_per_minute":
      return new ApiError(
        "rate_limit_exceeded",
        `Too many requests: ${WHO[refusal.scope]} may create ${refusal.max} tasks per minute`,
        {
          headers: { ...headers, "Retry-After": String(refusal.retryAfterS) },
          details: {
            details: {
              scope: refusal.scope,
              limit: refusal.limit,
              max: refusal.max,
              retry_after_seconds: refusal.retryAfterS,
            },
          },
        },
      );
    case "max_concurrent_tasks":
      return new ApiError(
        "concurrency_limit_exceeded",
        `Too many tasks in progress: ${WHO[refusal.scope]} may run ${refusal.max} at once`,
        {
          headers: { ...headers, "Retry-After": String(refusal.retryAfterS) },
          details: {
            details: {
              scope: refusal.scope,
              limit: refusal.limit,
              max: refusal.max,
              active: refusal.active,
              retry_after_seconds: refusal.retryAfterS,
            },
          },
        },
      );
    case "monthly_credits": {
      const remaining = Math.max(0, refusal.maxUnits - refusal.usedUnits - refusal.reservedUnits);
      return new ApiError(
        "insufficient_quota",
        `Insufficient quota: the request needs an estimated ${fromUnits(refusal.estimateUnits)} credits and ${WHO[refusal.scope]} has ${fromUnits(remaining)} left this month`,
        {
          headers,
          details: {
            details: {
              scope: refusal.scope,
              limit: refusal.limit,
              total_limit_credits: fromUnits(refusal.maxUnits),
              used_credits: fromUnits(refusal.usedUnits),
              reserved_credits: fromUnits(refusal.reservedUnits),
              remaining_credits: fromUnits(remaining),
              estimated_credits: fromUnits(refusal.estimateUnits),
              reset_at: new Date(refusal.resetsAt).toISOString(),
              reset_timezone: "UTC",
            },
          },
        },
      );
    }
  }
}
