// OpenAPI operation of src/tenants/upstream-routes.ts: the operator's EvoLink account. The body is a fixed
// contract (the console's front page reads it).
import * as z from "zod";
import type { OperationSpec } from "../openapi/registry";
import { UpstreamStatusQuery } from "./query";

const iso = () => z.string().describe("ISO 8601 time.");

export const UpstreamStatusSchema = z.object({
  balance: z
    .object({
      remaining_credits: z.number().nullable().describe("What the operator's key can still spend."),
      used_credits: z.number().describe("What the account has used (EvoLink's `user.used_credits`)."),
      read_at: iso().describe("When EvoLink was asked."),
    })
    .nullable()
    .describe("The last balance read; null until the first."),
  open_reservations: z
    .number()
    .describe("Credits reserved by every tenant's tasks in flight, as their objects last reported."),
  alert: z.object({
    below: z.number().nullable().describe("UPSTREAM_CREDITS_ALERT (null: only the open reservations count)."),
    low: z.boolean().describe("The balance was under the alert or the open reservations at the last read."),
    since: iso().nullable().describe("When it went low (null: it is not)."),
  }),
  check_every_seconds: z
    .int()
    .describe("UPSTREAM_CREDITS_CHECK_SECONDS: the alarm reads at most this often."),
  last_error: z
    .object({ code: z.string().describe("The error code of the failed read."), at: iso() })
    .nullable()
    .describe("The last read's failure (null once a read succeeds)."),
});

export const upstreamOperations: OperationSpec[] = [
  {
    api: "admin",
    method: "get",
    path: "/admin/upstream",
    operationId: "adminUpstreamStatus",
    summary: "The operator's EvoLink balance",
    description:
      "The balance as the Registry last read it (GET /v1/credits with the operator's key, at most every `check_every_seconds` while tasks run), the credits reserved by tasks in flight across tenants, and the `upstream.credits_low` alert's state. A failed read keeps the last balance and shows `last_error`.",
    tag: "Operator",
    security: "admin",
    query: UpstreamStatusQuery,
    queryDescriptions: { refresh: "`1`: read the balance now, before answering." },
    responses: { 200: { description: "The operator's account.", schema: UpstreamStatusSchema } },
    errors: ["invalid_request"],
  },
];
