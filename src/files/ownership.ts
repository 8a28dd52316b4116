// `video_urls` entries that are the gateway's own signed file URLs: each must be genuine, unexpired, and
// belong to the caller's tenant — and to the caller's `sub` when the token has one — or the request is a
// `403 policy_violation`. Checked at the edge from the signed token alone (no storage read).
import type { Config } from "../config/env";
import type { Principal } from "../auth/principal";
import { ApiError } from "../http/errors";
import { gatewayFileToken, subTag, verifyFileToken } from "./signed-url";

/** The ids of the gateway files the request uses (empty when it uses none). */
export async function ownedUploads(
  videoUrls: readonly string[],
  principal: Principal,
  config: Config,
  now: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, raw] of videoUrls.entries()) {
    const token = gatewayFileToken(new URL(raw), config.publicBaseUrl);
    if (token === null) continue;
    const claims = await verifyFileToken(config.signingSecret, token, now);
    const owned =
      claims !== null &&
      claims.tenantId === principal.tenant.id &&
      (principal.sub === undefined ||
        claims.subTag === (await subTag(config.signingSecret, principal.tenant.id, principal.sub)));
    if (!owned)
      throw new ApiError(
        "policy_violation",
        `video_urls[${i}] is a file URL of this gateway that is expired, altered or not yours to use`,
        { param: `video_urls[${i}]` },
      );
    ids.push(claims.fileId);
  }
  return ids;
}
