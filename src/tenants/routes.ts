// The admin API for tenants (`Authorization: Bearer $ADMIN_TOKEN`): create/replace, read, list, delete.
// Every call goes to the Registry Durable Object, the only writer and the authoritative reader of tenant
// records; a DELETE ends the incarnation in the tenant's own object first (src/tenants/lifecycle.ts).
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import type * as z from "zod";
import { MAX_BODY_BYTES } from "../config/constants";
import type { HttpEnv } from "../http/context";
import { readJsonBody } from "../http/body";
import { bearerCredentials } from "../http/bearer";
import { ApiError } from "../http/errors";
import { checkGatewayUrl } from "../net/urls";
import { tenantObject } from "../state/client";
import { safeEqual } from "../util/hmac";
import { endIncarnation } from "./lifecycle";
import { registry } from "./registry-client";
import { TENANT_ID_PATTERN, TenantInputSchema } from "./schema";
import { forgetTenant } from "./lookup";
import { tenantView } from "./view";

export function adminAuth(): MiddlewareHandler<HttpEnv> {
  return async function adminAuth(c, next) {
    const token = bearerCredentials(c.req.header("authorization"));
    if (!token || !(await safeEqual(token, c.get("config").adminToken))) {
      throw new ApiError("unauthorized", "Invalid admin token", {
        headers: { "WWW-Authenticate": 'Bearer realm="reelgate-admin", error="invalid_token"' },
      });
    }
    await next();
  };
}

function tenantIdParam(id: string): string {
  if (!TENANT_ID_PATTERN.test(id))
    throw new ApiError("invalid_request", "tenant_id must match [a-z0-9][a-z0-9_-]{0,62}", {
      param: "tenant_id",
    });
  return id;
}

/** Renders the first zod issue as a field error. */
export function zodError(error: z.ZodError): ApiError {
  const issue = error.issues[0]!;
  const param = issue.path
    .map((p, i) => (typeof p === "number" ? `[${p}]` : i ? `.${String(p)}` : String(p)))
    .join("");
  const message =
    issue.code === "unrecognized_keys"
      ? `Unknown field${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}`
      : `${param || "body"}: ${issue.message}`;
  const keyParam =
    issue.code === "unrecognized_keys" ? [param, issue.keys[0]].filter(Boolean).join(".") : param;
  return new ApiError("invalid_request", message, keyParam ? { param: keyParam } : {});
}

function forceParam(raw: string | undefined): boolean {
  if (raw === undefined || raw === "false") return false;
  if (raw === "true") return true;
  throw new ApiError("invalid_request", "force must be true or false", { param: "force" });
}

function checkUrl(raw: string | undefined, param: string, allowLocal: boolean): void {
  if (raw === undefined) return;
  const verdict = checkGatewayUrl(raw, { allowLocal });
  if (!verdict.ok) throw new ApiError("invalid_request", `${param}: ${verdict.reason}`, { param });
}

export const tenantRoutes = new Hono<HttpEnv>();

tenantRoutes.put("/:id", async (c) => {
  const id = tenantIdParam(c.req.param("id"));
  const parsed = TenantInputSchema.safeParse(await readJsonBody(c.req.raw, MAX_BODY_BYTES));
  if (!parsed.success) throw zodError(parsed.error);
  const input = parsed.data;
  const allowLocal = c.get("config").devAllowLocalUrls;
  checkUrl(input.auth.jwks_uri, "auth.jwks_uri", allowLocal);
  checkUrl(input.webhook?.url, "webhook.url", allowLocal);

  // One call: the Registry merges over its own record, claims the issuer and writes the KV replica.
  const result = await registry(c.env).putTenant(id, input);
  if (!result.ok)
    throw new ApiError("issuer_conflict", "Another tenant already uses this issuer", {
      param: "auth.issuer",
    });
  const { tenant } = result;
  forgetTenant(tenant.auth.issuer, ...(result.previousIssuer ? [result.previousIssuer] : []));
  c.get("log").info("tenant_saved", {
    tenant_id: id,
    created: result.created,
    version: tenant.version,
    replicated: result.replicated,
  });
  return c.json(
    tenantView(tenant, result.generatedSecret ? { webhookSecret: result.generatedSecret } : {}),
    result.created ? 201 : 200,
  );
});

const LIST_QUERY_MAX = 200;

tenantRoutes.get("/", async (c) => {
  const limitRaw = c.req.query("limit");
  const limit = limitRaw === undefined ? 100 : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new ApiError("invalid_request", "limit must be an integer between 1 and 1000", { param: "limit" });
  const cursor = c.req.query("cursor") || null;
  if (cursor !== null && !TENANT_ID_PATTERN.test(cursor))
    throw new ApiError("invalid_request", "cursor is not one this API returned", { param: "cursor" });
  const q = c.req.query("q") || null;
  if (q !== null && q.length > LIST_QUERY_MAX)
    throw new ApiError("invalid_request", `q must be at most ${LIST_QUERY_MAX} characters`, { param: "q" });
  const page = await registry(c.env).listTenants({ q, cursor, limit });
  return c.json({ object: "list", data: page.tenants, cursor: page.cursor });
});

tenantRoutes.get("/:id", async (c) => {
  const tenant = await registry(c.env).getTenant(tenantIdParam(c.req.param("id")));
  if (!tenant) throw new ApiError("tenant_not_found", "No such tenant");
  return c.json(tenantView(tenant));
});

tenantRoutes.delete("/:id", async (c) => {
  const id = tenantIdParam(c.req.param("id"));
  const force = forceParam(c.req.query("force"));
  const result = await endIncarnation(
    {
      registry: registry(c.env),
      object: (tenant) => tenantObject(c.env, tenant),
      forget: (issuer) => forgetTenant(issuer),
    },
    id,
    force,
  );
  if (!result.ended && result.reason === "not_found")
    throw new ApiError("tenant_not_found", "No such tenant");
  if (!result.ended)
    throw new ApiError(
      "tenant_busy",
      `The tenant has ${result.open} task${result.open === 1 ? "" : "s"} in flight; ` +
        "wait for them to end, or delete with ?force=true (their credits and webhooks are lost)",
    );
  const log = c.get("log");
  if (result.late > 0) log.warn("tenant_deleted_late_task", { tenant_id: id, tasks: result.late });
  log.info("tenant_deleted", {
    tenant_id: id,
    incarnation: result.incarnation,
    forced: force,
    tasks_dropped: result.dropped,
    kv_deleted: result.kvDeleted,
    kv_complete: result.kvComplete,
  });
  return c.body(null, 204);
});
