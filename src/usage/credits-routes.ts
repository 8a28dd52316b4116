// GET /v1/credits: the caller's balance in EvoLink's shape (its GET /v1/credits, src/usage/credits.ts for the
// mapping), from one call to the tenant's Durable Object (the usage snapshot GET /v1/usage reads). Mounted
// ahead of the /v1/* middleware (src/app.ts) with its own token check and read limit, so that every error,
// theirs included, comes in EvoLink's legacy error body: `error.code` the HTTP status as an integer, reelgate's
// own code in `error.reason`.
import { Hono } from "hono";
import { tenantAuth } from "../auth/middleware";
import type { TenantEnv } from "../auth/principal";
import type { HttpEnv } from "../http/context";
import { onErrorShaped } from "../http/middleware";
import { readLimit } from "../http/read-limit";
import { limitsOf } from "../quota/limits";
import { tenantObject } from "../state/client";
import { findTenantByIssuer } from "../tenants/lookup";
import type { Context } from "hono";
import { creditsView } from "./credits";

export const creditsRoutes = new Hono<TenantEnv>();
creditsRoutes.onError(creditsOnError);
creditsRoutes.use("*", tenantAuth({ findTenantByIssuer }), readLimit());

creditsRoutes.get("/", async (c) => {
  const { tenant, sub } = c.get("principal");
  const snapshot = await tenantObject(c.env, tenant).usage(sub ?? null, Date.now());
  if (sub !== undefined && !snapshot.user)
    throw new Error("credits: the tenant object left out the user's scope");
  const data = creditsView(limitsOf(tenant), snapshot.tenant, snapshot.user);
  return c.json({ data, message: "", success: true }, 200, { "cache-control": "no-store" });
});

/** EvoLink's legacy error body (its GET /v1/credits documents it): the status as `code`, a retry hint. */
export function creditsOnError<E extends HttpEnv>(err: Error, c: Context<E>): Promise<Response> {
  return onErrorShaped(err, c, (rendered, { error }) => {
    const retryAfter = rendered.headers.get("retry-after");
    return {
      error: {
        ...error,
        code: rendered.status,
        reason: error.code,
        ...(retryAfter ? { fallback_suggestion: `retry after ${retryAfter} seconds` } : {}),
      },
    };
  });
}
