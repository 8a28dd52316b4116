// The admin API for tenants (`Authorization: Bearer $ADMIN_TOKEN`): create/replace, read, list, delete.
// Every call goes to the Registry Durable Object, the only writer and the authoritative reader of tenant
// records; a DELETE ends the incarnation in the tenant's own object first (src/tenants/lifecycle.ts).
import { Hono } from "hono";
import { MAX_BODY_BYTES } from "../config/constants";
import type { HttpEnv } from "../http/context";
import { readJsonBody } from "../http/body";
import { ApiError } from "../http/errors";
import { param, parseWith, query } from "../http/validate";
import { checkGatewayUrl } from "../net/urls";
import { tenantPrefixes, wipePrefixes } from "../state/buckets";
import { tenantObject } from "../state/client";
import { endIncarnation } from "./lifecycle";
import { registry } from "./registry-client";
import { tenantNotFound } from "./admin";
import { TenantDeleteQuery, TenantIdParams, TenantListQuery } from "./query";
import { TenantInputSchema } from "./schema";
import { forgetIncarnation, forgetTenant } from "./lookup";
import { tenantView } from "./view";

function checkUrl(raw: string | undefined, field: string, allowLocal: boolean): void {
  if (raw === undefined) return;
  const verdict = checkGatewayUrl(raw, { allowLocal });
  if (!verdict.ok) throw new ApiError("invalid_request", `${field}: ${verdict.reason}`, { param: field });
}

export const tenantRoutes = new Hono<HttpEnv>();

tenantRoutes.put("/:tenant_id", param(TenantIdParams), async (c) => {
  const id = c.req.valid("param").tenant_id;
  const input = parseWith(TenantInputSchema, await readJsonBody(c.req.raw, MAX_BODY_BYTES));
  const allowLocal = c.get("config").devAllowLocalUrls;
  checkUrl(input.auth.jwks_uri, "auth.jwks_uri", allowLocal);
  checkUrl(input.webhook?.url, "webhook.url", allowLocal);
  const maxDays = c.get("config").maxResultRetentionDays;
  if ((input.results?.retention_days ?? 0) > maxDays)
    throw new ApiError(
      "invalid_request",
      `results.retention_days: must be at most ${maxDays} (MAX_RESULT_RETENTION_DAYS)`,
      {
        param: "results.retention_days",
      },
    );

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

tenantRoutes.get("/", query(TenantListQuery), async (c) => {
  const { q, cursor, limit } = c.req.valid("query");
  const page = await registry(c.env).listTenants({ q: q ?? null, cursor: cursor ?? null, limit });
  return c.json({ object: "list", data: page.tenants, cursor: page.cursor });
});

tenantRoutes.get("/:tenant_id", param(TenantIdParams), async (c) => {
  const tenant = await registry(c.env).getTenant(c.req.valid("param").tenant_id);
  if (!tenant) throw tenantNotFound();
  return c.json(tenantView(tenant));
});

tenantRoutes.delete("/:tenant_id", param(TenantIdParams), query(TenantDeleteQuery), async (c) => {
  const id = c.req.valid("param").tenant_id;
  const { force } = c.req.valid("query");
  const result = await endIncarnation(
    {
      registry: registry(c.env),
      object: (tenant) => tenantObject(c.env, tenant),
      forget: (tenant) => {
        forgetTenant(tenant.auth.issuer);
        forgetIncarnation(tenant);
      },
      wipeBuckets: (tenantId) => wipePrefixes(tenantPrefixes(c.env, tenantId)),
    },
    id,
    force,
  );
  const log = c.get("log");
  if (!result.ended && result.reason === "not_found") throw tenantNotFound();
  if (!result.ended && result.reason === "wiping") {
    // Not done: the record stays, so the next DELETE finds the tenant and deletes the next pages.
    log.info("tenant_deleting", { tenant_id: id, forced: force, r2_deleted: result.deleted });
    return c.json({ status: "deleting" as const, deleted: result.deleted }, 202);
  }
  if (!result.ended)
    throw new ApiError(
      "tenant_busy",
      `The tenant has ${result.open} task${result.open === 1 ? "" : "s"} in flight; ` +
        "wait for them to end, or delete with ?force=true (their credits and webhooks are lost)",
    );
  if (!result.r2Complete) log.warn("tenant_deleted_keys_left", { tenant_id: id });
  if (result.late > 0) log.warn("tenant_deleted_late_task", { tenant_id: id, tasks: result.late });
  log.info("tenant_deleted", {
    tenant_id: id,
    incarnation: result.incarnation,
    forced: force,
    tasks_dropped: result.dropped,
    kv_deleted: result.kvDeleted,
    kv_complete: result.kvComplete,
    r2_deleted: result.r2Deleted,
  });
  return c.body(null, 204);
});
