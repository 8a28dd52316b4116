// OpenAPI operations of src/usage/routes.ts: the caller's usage and the operator's month ledger.
import * as z from "zod";
import type { OperationSpec } from "../openapi/registry";
import { TenantSchema } from "../tenants/schema";
import { TENANT_ID_PATH } from "../tenants/query";
import { MonthUsageQuery } from "./query";

const nullableInt = z.int().nullable();
const Scope = z.object({
  requests_per_minute: z.object({
    limit: nullableInt,
    used: z.int(),
    remaining: nullableInt,
    reset_at: z.string().nullable().describe("When the oldest request in the window stops counting."),
  }),
  concurrent_tasks: z.object({
    limit: nullableInt,
    active: z.int(),
    remaining: nullableInt,
    next_slot_in_seconds: nullableInt,
  }),
  monthly_credits: z.object({
    limit: z.number().nullable(),
    month: z.string().describe("YYYY-MM (UTC)."),
    used: z.number(),
    reserved: z.number(),
    remaining: z.number().nullable(),
    reset_at: z.string(),
  }),
  uploads: z
    .object({
      max_files: z.object({
        limit: nullableInt,
        used: z.int().describe("Files stored now (pending uploads included)."),
        remaining: nullableInt,
      }),
      monthly_upload_bytes: z.object({
        limit: nullableInt,
        month: z.string().describe("YYYY-MM (UTC)."),
        used: z.int().describe("Bytes uploaded this month."),
        remaining: nullableInt,
        reset_at: z.string(),
      }),
    })
    .describe("Uploads through /api/v1/files (src/files)."),
  results: z
    .object({
      result_storage_bytes: z.object({
        limit: nullableInt,
        used: z.int().describe("Bytes of kept results stored now."),
        remaining: nullableInt,
      }),
      result_byte_days: z.object({
        month: z.string().describe("YYYY-MM (UTC)."),
        used: z
          .int()
          .describe(
            "Stored bytes integrated over the month so far, per 24 hours (one byte kept one day is 1).",
          ),
        reset_at: z.string(),
      }),
    })
    .describe("Kept results: task outputs the gateway stores in the operator's bucket (docs/results.md)."),
});

const ResultStorageRow = z.object({
  scope: z.enum(["tenant", "user"]),
  sub: z.string().optional(),
  bytes: z.int().describe("Bytes of kept results stored now."),
  byte_days: z.int().describe("Stored bytes integrated over the month (up to now), per 24 hours."),
});

export const LedgerTask = z.object({
  task_id: z.string(),
  sub: z.string().nullable(),
  status: z.string(),
  model: z.string(),
  estimate: z.number(),
  reserved: z.number(),
  charged: z.number().nullable(),
  created_at: z.string(),
  ended_at: z.string().nullable(),
});

export const usageOperations: OperationSpec[] = [
  {
    api: "tenant",
    method: "get",
    path: "/v1/usage",
    operationId: "getUsage",
    summary: "Your limits and usage",
    description:
      "The caller's own limits and usage: the user's (`user`) when the token has a `sub`, the whole tenant's (`tenant`) when it has none. A user token never sees the tenant-wide figures, though the tenant's limits still apply to its requests. A limit of null means unlimited.",
    tag: "Usage",
    security: "tenant",
    responses: {
      200: {
        description: "Limits with what is used, held and left.",
        schema: z.object({
          object: z.literal("usage"),
          tenant: Scope.optional().describe("The whole tenant: only for a token without `sub`."),
          user: Scope.extend({ sub: z.string() })
            .optional()
            .describe("The end user the token names: only for a token with `sub`."),
        }),
      },
    },
    errors: [],
  },
  {
    api: "admin",
    method: "get",
    path: "/admin/tenants/{tenant_id}/usage",
    operationId: "adminGetUsageLedger",
    summary: "A tenant's month ledger",
    description:
      "Totals per tenant and user, and per task the credits reserved and settled, for one month; the month's uploads and kept-result storage (bytes and byte-days) per tenant and user.",
    tag: "Usage",
    security: "admin",
    pathParams: TENANT_ID_PATH,
    query: MonthUsageQuery,
    queryDescriptions: {
      month: "YYYY-MM (UTC); the current month by default.",
      limit: "Tasks per page.",
      cursor: "The `cursor` of the previous page.",
    },
    responses: {
      200: {
        description: "The month's ledger page.",
        schema: z.object({
          object: z.literal("usage_ledger"),
          tenant_id: z.string(),
          month: z.string(),
          limits: z.object({
            quotas: TenantSchema.shape.quotas.def.innerType,
            user_quotas: TenantSchema.shape.user_quotas.def.innerType,
          }),
          totals: z.array(
            z.object({
              scope: z.enum(["tenant", "user"]),
              sub: z.string().optional(),
              used: z.number(),
              reserved: z.number(),
            }),
          ),
          tasks: z.array(LedgerTask),
          cursor: z.string().nullable(),
          uploads: z
            .array(
              z.object({
                scope: z.enum(["tenant", "user"]),
                sub: z.string().optional(),
                files: z.int().describe("Files uploaded this month."),
                bytes: z.int().describe("Bytes uploaded this month."),
              }),
            )
            .describe("The month's uploads per tenant and user."),
          result_storage: z
            .array(ResultStorageRow)
            .describe(
              "Kept-result storage per tenant and user: every scope that stored results in the month, the tenant first.",
            ),
        }),
      },
    },
    errors: ["invalid_request", "tenant_not_found"],
  },
];
