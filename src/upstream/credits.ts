// The operator's own EvoLink balance: GET /v1/credits with the operator's key, through the same call path as
// the client (base URL, key, timeout, size cap, error mapping). Its answer is EvoLink's
// files/openapi-get-credits.json: `user` is the account (its prepaid balance), `token` the key, which may have
// a limit of its own unless `unlimited_credits`. The key is only ever in the request's header.
import * as z from "../config/zod";
import { ApiError } from "../http/errors";
import { mapUpstreamError, readCapped, sendUpstream, upstreamHeaders, type UpstreamCall } from "./client";
import { EVOLINK } from "./providers";

const CreditsResponse = z.looseObject({
  data: z.looseObject({
    token: z.looseObject({
      remaining_credits: z.number(),
      unlimited_credits: z.boolean(),
      used_credits: z.number(),
    }),
    user: z.looseObject({ remaining_credits: z.number(), used_credits: z.number() }),
  }),
  message: z.string(),
  success: z.literal(true),
});

export interface UpstreamCredits {
  /**
   * What the operator's key can still spend: the account's remaining credits, or the key's own remaining when
   * it has a limit and that is lower. Always a number: EvoLink's account has no "unlimited" (the simulator's
   * unlimited default reports a figure no test reaches, sim/src/credits.ts).
   */
  remaining: number;
  /** What the account has used (EvoLink's `user.used_credits`). */
  used: number;
}

/** Reads the operator's balance; an unreachable, refusing or unreadable upstream throws the client's ApiErrors. */
export async function getUpstreamCredits(call: UpstreamCall): Promise<UpstreamCredits> {
  const provider = call.provider ?? EVOLINK;
  const res = await sendUpstream(call, provider.creditsPath, {
    method: "GET",
    headers: upstreamHeaders(call, provider),
  });
  const body = await readCapped(res);
  if (!res.ok) throw mapUpstreamError(call, res, body, "credits");
  const parsed = CreditsResponse.safeParse(body);
  if (!parsed.success) {
    call.log.error("upstream_bad_response", {
      op: "credits",
      status: res.status,
      issues: parsed.error.issues.length,
    });
    throw new ApiError("upstream_error", "The video service returned an unreadable answer");
  }
  const { token, user } = parsed.data.data;
  const remaining = token.unlimited_credits
    ? user.remaining_credits
    : Math.min(user.remaining_credits, token.remaining_credits);
  return { remaining, used: user.used_credits };
}
