// `video_urls` entries on the gateway's own host: each must be one of its signed file URLs, spelled as the
// gateway mints it, genuine, unexpired, and belonging to the caller's tenant (this life of it) — and to the caller's `sub` when
// the token has one — or the request is a `403 policy_violation`. Checked at the edge from the signed token
// alone (no storage read). These URLs skip the address rules of video_urls (src/net/urls.ts): this is
// their check.
import type { Config } from "../config/env";
import type { Principal } from "../auth/principal";
import { ApiError } from "../http/errors";
import { gatewayUrl, subTag, verifyFileToken } from "./signed-url";

/** The ids of the gateway files the request uses (empty when it uses none). */
export async function ownedUploads(
  videoUrls: readonly string[],
  principal: Principal,
  config: Config,
  now: number,
): Promise<string[]> {
  const ids: string[] = [];
  for (const [i, raw] of videoUrls.entries()) {
    const at = gatewayUrl(new URL(raw), config.publicBaseUrl);
    if (at.kind === "foreign") continue;
    const claims = at.kind === "file" ? await verifyFileToken(config.signingSecret, at.token, now) : null;
    const owned =
      claims !== null &&
      claims.tenantId === principal.tenant.id &&
      claims.incarnation === principal.tenant.incarnation &&
      (principal.sub === undefined ||
        claims.subTag === (await subTag(config.signingSecret, principal.tenant.id, principal.sub)));
    if (!owned)
      throw new ApiError(
        "policy_violation",
        `video_urls[${i}] points at this gateway but is not a current, unaltered file URL of yours`,
        { param: `video_urls[${i}]` },
      );
    ids.push(claims.fileId);
  }
  return ids;
}
