// OpenAPI operation of src/usage/daily-routes.ts: a tenant's month per day, for the console's usage chart.
import * as z from "zod";
import type { OperationSpec } from "../openapi/registry";
import { TENANT_ID_PATH } from "../tenants/query";
import { DailyUsageQuery } from "./query";

const limit = z.number().nullable().describe("The tenant's limit; null when unlimited.");

const DailyUsageSchema = z.object({
  object: z.literal("usage_daily"),
  tenant_id: z.string(),
  month: z.string(),
  days: z
    .array(
      z.object({
        date: z.string().describe("YYYY-MM-DD (UTC)."),
        credits_reserved: z.number(),
        credits_charged: z.number(),
        credits_held: z.number().describe("Still reserved by tasks of that day that have not ended."),
        tasks_created: z.int(),
        tasks_ended: z.int(),
      }),
    )
    .describe("Every day of the month, oldest first; a day's credits belong to the tasks created on it."),
  top_users: z.array(
    z.object({ sub: z.string(), credits_reserved: z.number(), credits_charged: z.number(), tasks: z.int() }),
  ),
  in_flight: z.object({ tasks: z.int(), limit }),
  requests: z.object({ last_minute: z.int(), limit }),
  credits: z
    .object({ charged: z.number(), held: z.number(), limit })
    .nullable()
    .describe("The current month's credits against the limit; null for another month."),
  result_storage: z
    .object({
      bytes: z.int().describe("Bytes of kept results stored now."),
      byte_days: z.int().describe("Stored bytes integrated over the month (up to now), per 24 hours."),
      limit: z.int().nullable().describe("quotas.result_storage_bytes; null when unlimited."),
      users: z
        .array(z.object({ sub: z.string(), bytes: z.int(), byte_days: z.int() }))
        .describe("Every user that stored results in the month, most byte-days first."),
    })
    .describe("Kept results in the operator's bucket, what storage is billed from."),
});

export const dailyUsageOperations: OperationSpec[] = [
  {
    api: "admin",
    method: "get",
    path: "/admin/tenants/{tenant_id}/usage/daily",
    operationId: "adminGetDailyUsage",
    summary: "A tenant's month, per day",
    description:
      "Credits reserved and charged and tasks created and ended per day (UTC), the top users, tasks in flight and requests in the last minute against their limits, and kept-result storage (bytes now, the month's byte-days) per tenant and user.",
    tag: "Usage",
    security: "admin",
    pathParams: TENANT_ID_PATH,
    query: DailyUsageQuery,
    queryDescriptions: { month: "YYYY-MM (UTC); the current month when absent." },
    responses: { 200: { description: "The month per day.", schema: DailyUsageSchema } },
    errors: ["invalid_request", "tenant_not_found"],
  },
];
