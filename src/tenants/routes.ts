// The admin API for tenants (`Authorization: Bearer $ADMIN_TOKEN`): create/replace, read, list, delete.
// Writes go through the Registry Durable Object (atomic issuer claims); reads come straight from KV.
import { Hono } from "hono";
import type { MiddlewareHandler } from "hono";
import type * as z from "zod";
import { MAX_BODY_BYTES } from "../config/constants";
import type { AppEnv } from "../env";
import { readJsonBody } from "../http/body";
import { ApiError } from "../http/errors";
import { checkOutboundUrl } from "../net/urls";
import { safeEqual } from "../util/hmac";
import { registry } from "./registry";
import { type Tenant, TENANT_ID_PATTERN, type TenantInput, TenantInputSchema } from "./schema";
import { forgetTenant, getTenant, listTenants } from "./store";
import { generateWebhookSecret, tenantView } from "./view";

export function adminAuth(): MiddlewareHandler<AppEnv> {
  return async function adminAuth(c, next) {
    const header = c.req.header("authorization") ?? "";
    const token = header.startsWith("Bearer ") ? header.slice(7).trim() : "";
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

function checkUrl(raw: string | undefined, param: string, allowLocal: boolean): void {
  if (raw === undefined) return;
  const verdict = checkOutboundUrl(raw, { requireHttps: true, allowLocal });
  if (!verdict.ok) throw new ApiError("invalid_request", `${param}: ${verdict.reason}`, { param });
}

function buildRecord(id: string, input: TenantInput, existing: Tenant | null, now: Date) {
  const generated =
    (input.webhook?.secret ?? existing?.webhook?.secret) ? undefined : generateWebhookSecret();
  const keepRotation = existing?.webhook && !input.webhook?.secret;
  const record: Tenant = {
    id,
    name: input.name,
    status: input.status,
    auth: input.auth,
    ...(input.policy ? { policy: input.policy } : {}),
    ...(input.quotas ? { quotas: input.quotas } : {}),
    ...(input.user_quotas ? { user_quotas: input.user_quotas } : {}),
    webhook: {
      ...(keepRotation ? existing.webhook : {}),
      ...(input.webhook?.url ? { url: input.webhook.url } : {}),
      secret: input.webhook?.secret ?? existing?.webhook?.secret ?? generated!,
    },
    created_at: existing?.created_at ?? now.toISOString(),
    updated_at: now.toISOString(),
  };
  if (!input.webhook?.url) delete record.webhook!.url;
  return { record, generated };
}

export const tenantRoutes = new Hono<AppEnv>();

tenantRoutes.put("/:id", async (c) => {
  const id = tenantIdParam(c.req.param("id"));
  const parsed = TenantInputSchema.safeParse(await readJsonBody(c.req.raw, MAX_BODY_BYTES));
  if (!parsed.success) throw zodError(parsed.error);
  const input = parsed.data;
  const allowLocal = c.get("config").devAllowLocalUrls;
  checkUrl(input.auth.jwks_uri, "auth.jwks_uri", allowLocal);
  checkUrl(input.webhook?.url, "webhook.url", allowLocal);

  const existing = await getTenant(c.env, id);
  const { record, generated } = buildRecord(id, input, existing, new Date());
  const result = await registry(c.env).putTenant(record);
  if (result.conflictWith)
    throw new ApiError("issuer_conflict", "Another tenant already uses this issuer", {
      param: "auth.issuer",
    });
  forgetTenant(record.auth.issuer, ...(result.previousIssuer ? [result.previousIssuer] : []));
  c.get("log").info("tenant_saved", { tenant_id: id, created: result.created });
  return c.json(
    tenantView(record, generated ? { webhookSecret: generated } : {}),
    result.created ? 201 : 200,
  );
});

tenantRoutes.get("/", async (c) => {
  const limitRaw = c.req.query("limit");
  const limit = limitRaw === undefined ? 100 : Number(limitRaw);
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
    throw new ApiError("invalid_request", "limit must be an integer between 1 and 1000", { param: "limit" });
  const prefix = c.req.query("prefix") || undefined;
  if (prefix !== undefined && !/^[a-z0-9_-]{1,63}$/.test(prefix))
    throw new ApiError("invalid_request", "prefix must be the start of a tenant id", { param: "prefix" });
  const page = await listTenants(c.env, c.req.query("cursor") || undefined, limit, prefix);
  return c.json({ object: "list", data: page.tenants, cursor: page.cursor });
});

tenantRoutes.get("/:id", async (c) => {
  const tenant = await getTenant(c.env, tenantIdParam(c.req.param("id")));
  if (!tenant) throw new ApiError("tenant_not_found", "No such tenant");
  return c.json(tenantView(tenant));
});

tenantRoutes.delete("/:id", async (c) => {
  const id = tenantIdParam(c.req.param("id"));
  const existing = await getTenant(c.env, id);
  if (!(await registry(c.env).deleteTenant(id))) throw new ApiError("tenant_not_found", "No such tenant");
  if (existing) forgetTenant(existing.auth.issuer);
  c.get("log").info("tenant_deleted", { tenant_id: id });
  return c.body(null, 204);
});
