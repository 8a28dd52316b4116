// POST /v1/videos/generations/estimate: the quote a client shows before the user commits. The body of a
// generation goes through the same reading, contract, policy and file checks (the same 400/403 errors),
// the same pricing, and the same admission decision as POST /v1/videos/generations — run by the tenant's
// object over its current counters, with nothing reserved or written and no upstream call. A quota
// refusal is the answer here, not an error: `admissible: false` with the code the generation would answer.
// It is a read: it counts against the read limits, never against the creation rate (docs/quotas.md).
import type { Context } from "hono";
import type { TenantEnv } from "../auth/principal";
import { ownedUploads } from "../files/ownership";
import { takeReads } from "../http/read-limit";
import { edgeRefusal } from "../quota/edge-refusals";
import { limitsOf } from "../quota/limits";
import { refusalError } from "../quota/refusal";
import { objectName, tenantObject } from "../state/client";
import { modelFor } from "../upstream/models";
import { readGeneration } from "./create";
import { quote } from "./pricing";

export async function estimateGeneration(c: Context<TenantEnv>): Promise<Response> {
  const principal = c.get("principal");
  await takeReads(c.env, principal, c.get("log"), 1);
  const { tenant, sub } = principal;
  const config = c.get("config");
  const { request } = await readGeneration(c);
  const now = Date.now();
  await ownedUploads(request.video_urls, principal, config, now);
  const { credits, breakdown } = quote(modelFor(request.model), request, config.pricing);

  const limits = limitsOf(tenant);
  // What the edge remembers the object refused, it refuses now: the generation would be refused there too.
  const early = edgeRefusal(objectName(tenant), sub ?? null, limits, now);
  const refusal =
    early?.refusal ??
    (await tenantObject(c.env, tenant).checkAdmission({ limits, sub: sub ?? null, estimate: credits, now }));
  const error = refusal ? refusalError(refusal) : null;
  return c.json({
    credits,
    breakdown: { ...breakdown, reference_videos: request.video_urls.length },
    admissible: error === null,
    reason: error?.code ?? null,
    // The refusal's figures, as the generation's error would carry them in `error.details`.
    details: (error?.details?.details as Record<string, unknown> | undefined) ?? null,
  });
}
