// The money loop's webhook events in the OpenAPI documents (src/usage/events.ts builds them): the tenant's
// `quota.threshold`, and the operator's `tenant.quota_exhausted` and `usage.settled`.
import * as z from "zod";
import { eventBody, SIGNED, webhook } from "../callbacks/routes.openapi";
import { LedgerTask } from "./routes.openapi";

const QuotaThresholdSchema = eventBody(
  "quota.threshold",
  z.object({
    scope: z.enum(["tenant", "user"]),
    sub: z.string().optional().describe("The user's `sub`, when `scope` is `user`."),
    threshold: z.int().describe("The percentage of the monthly credits reached."),
    month: z.string().describe("The calendar month (UTC), `YYYY-MM`."),
    used: z.number().describe("Credits used plus reserved by tasks in flight, this month."),
    limit: z.number().describe("The scope's `monthly_credits`."),
  }),
);

/** What the tenant receives (beside the task's end). */
export const USAGE_WEBHOOKS = {
  quotaThreshold: webhook(
    "quotaThreshold",
    "A scope reached an alert threshold of its monthly credits",
    `Sent to the tenant's webhook URL the first time this month that a scope's credits used plus reserved reach one of its \`alert_thresholds\` (default 80 and 100 percent of \`monthly_credits\`): once per scope, threshold and month. The tenant's scope uses \`quotas\`, a user's \`user_quotas\`. ${SIGNED}`,
    QuotaThresholdSchema,
    {
      type: "quota.threshold",
      timestamp: "2026-12-07T09:30:00.000Z",
      data: { scope: "user", sub: "user-42", threshold: 80, month: "2026-12", used: 81.2, limit: 100 },
    },
  ),
};

/** What the operator receives. */
export const USAGE_OPERATOR_WEBHOOKS = {
  tenantQuotaExhausted: webhook(
    "tenantQuotaExhausted",
    "A tenant used all of its monthly credits",
    `The first time in a month that a tenant's credits used plus reserved reach 100 % of its \`monthly_credits\`. ${SIGNED}`,
    eventBody(
      "tenant.quota_exhausted",
      z.object({ tenant_id: z.string(), month: z.string(), used: z.number(), limit: z.number() }),
    ),
    {
      type: "tenant.quota_exhausted",
      timestamp: "2026-12-07T09:30:00.000Z",
      data: { tenant_id: "acme", month: "2026-12", used: 1000, limit: 1000 },
    },
  ),
  usageSettled: webhook(
    "usageSettled",
    "A task settled: what it cost",
    `One per ended task, once its credits settle; \`webhook-id\` is the task's id, so a billing pipeline (a Stripe meter event's identifier, say) counts each task once however often it is delivered. The data is the task's ledger entry. ${SIGNED}`,
    eventBody("usage.settled", z.object({ tenant_id: z.string(), month: z.string(), ...LedgerTask.shape })),
    {
      type: "usage.settled",
      timestamp: "2026-12-07T09:30:00.000Z",
      data: {
        tenant_id: "acme",
        month: "2026-12",
        task_id: "task-unified-…",
        sub: "user-42",
        status: "completed",
        model: "wan2.6-reference-video-flash",
        estimate: 23.8,
        reserved: 23.8,
        charged: 23.8,
        created_at: "2026-12-07T09:28:00.000Z",
        ended_at: "2026-12-07T09:30:00.000Z",
      },
    },
  ),
};
