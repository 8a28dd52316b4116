// OpenAPI operations of src/tenants/routes.ts: creating, reading, listing and deleting tenants.
import * as z from "zod";
import type { OperationSpec } from "../openapi/registry";
import { TenantInputSchema, TenantSchema } from "./schema";
import { TENANT_ID_PATH, TenantDeleteQuery, TenantListQuery } from "./query";

const stored = TenantSchema.shape;
const { hs256_secret: _secret, ...publicAuth } = stored.auth.shape;

/** What the admin API shows of a tenant (src/tenants/view.ts): everything but secrets. */
export const TenantViewSchema = z.object({
  id: z.string(),
  // The stored schemas are zod/mini (src/config/zod.ts): described with the `describe` check, not a method.
  incarnation: stored.incarnation.check(
    z.describe(
      "This life of the tenant: set when it is created, new when it is re-created. Task ids, callback URLs and webhook event ids are bound to it.",
    ),
  ),
  version: stored.version.check(
    z.describe("Raised by every write of the record (the KV replica carries it)."),
  ),
  name: z.string(),
  status: stored.status,
  auth: z.object({ ...publicAuth, key_source: z.enum(["jwks", "jwks_uri", "hs256_secret"]) }),
  policy: stored.policy,
  quotas: stored.quotas,
  user_quotas: stored.user_quotas,
  results: stored.results,
  webhook: z.object({
    url: z.string().nullable(),
    secret_set: z.boolean(),
    max_per_second: z.number().optional().describe("Deliveries per second to each endpoint, at most."),
    previous_secret_expires_at: z.string().optional(),
    secret: z.string().optional().describe("Shown once: in the answer of the write that generated it."),
  }),
  portal: z.object({
    frame_ancestors: z
      .array(z.string())
      .describe(
        "Origins allowed to frame the tenant portal's page (its CSP `frame-ancestors`); none: no framing.",
      ),
    links_valid_after: z
      .string()
      .nullable()
      .describe("Portal links issued at or before this time are refused (POST …/portal-links/revoke)."),
  }),
  created_at: z.string(),
  updated_at: z.string(),
});

/** DELETE's answer while R2 keys remain (src/tenants/routes.ts). */
const TenantDeletingSchema = z.object({
  status: z.literal("deleting"),
  deleted: z.number().int().describe("R2 keys (uploads and kept results) this call deleted."),
});

const EXAMPLE_INPUT = {
  name: "Acme Video",
  auth: {
    issuer: "https://auth.acme.example",
    audience: "reelgate",
    jwks_uri: "https://auth.acme.example/.well-known/jwks.json",
    algorithms: ["ES256"],
  },
  policy: { allowed_models: ["wan2.6-reference-video-flash"], max_duration: 10 },
  quotas: { requests_per_minute: 60, max_concurrent_tasks: 20, monthly_credits: 50000 },
  user_quotas: { requests_per_minute: 6, max_concurrent_tasks: 2 },
  webhook: { url: "https://hooks.acme.example/reelgate" },
};

export const tenantOperations: OperationSpec[] = [
  {
    api: "admin",
    method: "put",
    path: "/admin/tenants/{tenant_id}",
    operationId: "adminPutTenant",
    summary: "Create or replace a tenant",
    description:
      "The whole record: token verification (exactly one of `jwks`, `jwks_uri`, `hs256_secret`), policy, quotas and webhook. A webhook secret is generated (and shown once) when none is given or kept.",
    tag: "Tenants",
    security: "admin",
    pathParams: TENANT_ID_PATH,
    body: { schema: TenantInputSchema, examples: { jwksUri: { value: EXAMPLE_INPUT } } },
    responses: {
      200: { description: "Replaced.", schema: TenantViewSchema },
      201: { description: "Created.", schema: TenantViewSchema },
    },
    errors: ["invalid_request", "issuer_conflict", "payload_too_large", "unsupported_media_type"],
  },
  {
    api: "admin",
    method: "get",
    path: "/admin/tenants",
    operationId: "adminListTenants",
    summary: "List tenants",
    tag: "Tenants",
    security: "admin",
    query: TenantListQuery,
    queryDescriptions: {
      q: "A substring of the id, name or issuer, in any case.",
      limit: "Tenants per page.",
      cursor: "The `cursor` of the previous page.",
    },
    responses: {
      200: {
        description: "A page of tenants.",
        schema: z.object({
          object: z.literal("list"),
          data: z.array(
            z.object({
              id: z.string(),
              name: z.string(),
              status: z.string(),
              issuer: z.string(),
              incarnation: z.string(),
              version: z.int(),
            }),
          ),
          cursor: z.string().nullable(),
        }),
      },
    },
    errors: ["invalid_request"],
  },
  {
    api: "admin",
    method: "get",
    path: "/admin/tenants/{tenant_id}",
    operationId: "adminGetTenant",
    summary: "Get a tenant",
    tag: "Tenants",
    security: "admin",
    pathParams: TENANT_ID_PATH,
    responses: { 200: { description: "The tenant (no secrets).", schema: TenantViewSchema } },
    errors: ["invalid_request", "tenant_not_found"],
  },
  {
    api: "admin",
    method: "delete",
    path: "/admin/tenants/{tenant_id}",
    operationId: "adminDeleteTenant",
    summary: "Delete a tenant",
    description:
      "Ends the tenant's incarnation: its tokens, task ids, callback URLs and file URLs stop working at once, and its Durable Object's storage (tasks, outbox, deliveries, ledgers), its KV documents and its R2 keys (uploads under `files/{tenant_id}/`, kept results under `results/{tenant_id}/`) are deleted. Refused with 409 `tenant_busy` while tasks are in flight, unless `force=true` (their credits and webhooks are then dropped; the upstream may still render and bill them). R2 keys are deleted in bounded pages per call: `202` says some remain and the tenant still exists; call again (with the same `force`) until `204`.",
    tag: "Tenants",
    security: "admin",
    pathParams: TENANT_ID_PATH,
    query: TenantDeleteQuery,
    queryDescriptions: { force: "`true` deletes even with tasks in flight." },
    responses: {
      202: {
        description:
          "Not finished: R2 keys remain after this call's pages. The tenant still exists; call DELETE again.",
        schema: TenantDeletingSchema,
      },
      204: {
        description: "Deleted: the record, the object's storage and every R2 key of the tenant are gone.",
      },
    },
    errors: ["invalid_request", "tenant_not_found", "tenant_busy"],
  },
];
