// Read limits: every GET of a tenant route (task polls and lists, usage, models, the files list and quota)
// counts once, and a task batch once per task, for its user and for its tenant on Cloudflare's Rate Limiting
// bindings (wrangler.jsonc `ratelimits`), so one caller looping on reads spends neither the operator's
// upstream quota nor the tenant object's time. The binding needs no object call and answers from the
// location, so it is approximate and counts per location; the creation limits stay exact in the tenant's
// object (docs/quotas.md, "Read limits").
import type { MiddlewareHandler } from "hono";
import { READ_LIMITS } from "../config/constants";
import type { Env } from "../env";
import type { HttpVariables } from "./context";
import { ApiError } from "./errors";
import type { Logger } from "./log";
import { rateLimitFields } from "./rate-limit-fields";

type Scope = keyof typeof READ_LIMITS;

/** What a read limit needs of the caller: the Principal of src/auth/principal.ts, seen from below. */
interface Reader {
  tenant: { id: string };
  sub: string | undefined;
}

interface ReaderEnv {
  Bindings: Env;
  Variables: HttpVariables & { principal: Reader };
}

/**
 * The counters a read takes, the user's first: a user over its limit is refused before it counts against
 * its tenant, so one user's flood does not use up the reads of the tenant's other users. A token without
 * `sub` counts against its tenant only. Tenant ids have no `:`, so no two callers share a key.
 */
export function readKeys(tenantId: string, sub: string | undefined): { scope: Scope; key: string }[] {
  const tenant = { scope: "tenant" as const, key: `tenant:${tenantId}` };
  return sub === undefined ? [tenant] : [{ scope: "user", key: `user:${tenantId}:${sub}` }, tenant];
}

/** Applied after the tenant's token is verified; it counts GET and HEAD requests and passes the rest on. */
export function readLimit(): MiddlewareHandler<ReaderEnv> {
  return async function readLimit(c, next) {
    if (c.req.method !== "GET" && c.req.method !== "HEAD") return next();
    await takeReads(c.env, c.get("principal"), c.get("log"), 1);
    await next();
  };
}

/**
 * Counts `reads` reads for the caller, its user's counter first, or throws the 429. The middleware counts one
 * for GET and HEAD; a POST that only reads calls it itself (POST /v1/videos/generations/estimate: one; POST
 * /v1/tasks/batch: one per task). A request that reads many things at once counts each: the binding counts one per call, so it is
 * called `reads` times per counter. A refusal may leave the counter full (the calls it admitted count).
 */
export async function takeReads(env: Env, reader: Reader, log: Logger, reads: number): Promise<void> {
  for (const { scope, key } of readKeys(reader.tenant.id, reader.sub)) {
    const outcomes = await Promise.all(Array.from({ length: reads }, () => allowed(env, scope, key, log)));
    if (outcomes.includes(false)) {
      log.debug("read_limited", { tenant_id: reader.tenant.id, scope });
      throw readRefusal(scope);
    }
  }
}

/**
 * Counts one call under `key` alone, or throws the 429: the tenant portal's calls, under `portal:<tenant>`
 * (a prefix no reader's key has), before the portal reads anything.
 */
export async function takeRead(env: Env, scope: Scope, key: string, log: Logger): Promise<void> {
  if (await allowed(env, scope, key, log)) return;
  log.debug("read_limited", { key, scope });
  throw readRefusal(scope);
}

/** A limiter that fails lets the read through: it guards the operator's quota, it is not a quota itself. */
async function allowed(env: Env, scope: Scope, key: string, log: Logger): Promise<boolean> {
  try {
    return (await env[READ_LIMITS[scope].binding].limit({ key })).success;
  } catch (err) {
    log.warn("read_limit_unavailable", { scope, error: String(err) });
    return true;
  }
}

const WHO = { tenant: "the tenant", user: "this user", portal: "the tenant's portal links" } as const;

/**
 * 429 `rate_limit_exceeded`, as creation's rate refusal, with `details.limit: "reads"`. The binding tells
 * neither what is left nor when its window turns, so Retry-After and `t` are the whole period: the longest
 * a refused caller can have to wait.
 */
export function readRefusal(scope: Scope): ApiError {
  const { max, periodS } = READ_LIMITS[scope];
  const fields = rateLimitFields([
    { name: `${scope}-reads`, quota: max, windowS: periodS, remaining: 0, resetS: periodS },
  ]);
  return new ApiError(
    "rate_limit_exceeded",
    `Too many reads: ${WHO[scope]} may make ${max} reads per ${periodS} seconds`,
    {
      headers: { ...fields, "Retry-After": String(periodS) },
      details: {
        details: { scope, limit: "reads", max, window_seconds: periodS, retry_after_seconds: periodS },
      },
    },
  );
}
