// OpenAPI operation of src/usage/credits-routes.ts: the caller's balance, in EvoLink's GET /v1/credits shape.
import * as z from "zod";
import { UNLIMITED_CREDITS_SHOWN } from "../config/constants";
import type { OperationSpec } from "../openapi/registry";

const remaining = (what: string) =>
  z.number().nonnegative().describe(`${what} Where no monthly limit bounds it: ${UNLIMITED_CREDITS_SHOWN}.`);

export const creditsOperations: OperationSpec[] = [
  {
    api: "tenant",
    method: "get",
    path: "/v1/credits",
    operationId: "getCredits",
    summary: "Your credit balance (EvoLink's shape)",
    description:
      "EvoLink's GET /v1/credits for this month's credits (`monthly_credits`). `token` is the caller's own scope: the user's for a token with `sub`, the tenant's without. `user` is what the caller can still spend: the smaller of its own and the tenant's remaining. Credits reserved by tasks in flight count as used. A user token sees no other tenant figure. Errors are EvoLink's legacy body for this endpoint: `error.code` is the HTTP status (an integer), reelgate's code is `error.reason`. GET /v1/usage has every limit in detail.",
    tag: "Usage",
    security: "tenant",
    errorEnvelope: "evolink-legacy",
    responses: {
      200: {
        description: "This month's balance.",
        schema: z.object({
          data: z.object({
            token: z.object({
              remaining_credits: remaining("Left under the caller's own monthly limit."),
              unlimited_credits: z
                .boolean()
                .describe("True when the caller's own scope has no monthly limit."),
              used_credits: z.number().nonnegative().describe("Settled plus reserved this month."),
            }),
            user: z.object({
              remaining_credits: remaining(
                "What the caller can still spend this month: the smaller of its own and the tenant's remaining.",
              ),
              used_credits: z.number().nonnegative().describe("The caller's own: settled plus reserved."),
            }),
          }),
          message: z.literal(""),
          success: z.literal(true),
        }),
        example: {
          data: {
            token: { remaining_credits: 76.2, unlimited_credits: false, used_credits: 23.8 },
            user: { remaining_credits: 40, used_credits: 23.8 },
          },
          message: "",
          success: true,
        },
      },
    },
    errors: [],
  },
];
