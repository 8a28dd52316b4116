// GET /v1/credits in EvoLink's shape, pure: `token` is the caller's own scope (the user's monthly credits for a
// token with `sub`, the tenant's without), `user` what the caller can still spend this month (the smaller of
// its own and the tenant's remaining). Reserved credits of tasks in flight count as used, as EvoLink counts its
// reservation. A user's answer carries no tenant figure but the remaining that bounds it.
import { UNLIMITED_CREDITS_SHOWN } from "../config/constants";
import { fromUnits, type ScopeState, toUnits } from "../quota/arithmetic";
import type { Limits } from "../quota/limits";

export interface CreditsData {
  token: { remaining_credits: number; unlimited_credits: boolean; used_credits: number };
  user: { remaining_credits: number; used_credits: number };
}

/** Units left under `limit` this month; null when there is no limit. */
function leftUnits(limit: number | undefined, state: ScopeState): number | null {
  if (limit === undefined) return null;
  return Math.max(0, toUnits(limit) - state.usedUnits - state.reservedUnits);
}

const shown = (units: number | null) => (units === null ? UNLIMITED_CREDITS_SHOWN : fromUnits(units));

/** `user` is the caller's own scope when the token has a `sub` (null otherwise). */
export function creditsView(limits: Limits, tenant: ScopeState, user: ScopeState | null): CreditsData {
  const own = user ?? tenant;
  const ownLimit = user ? limits.user.monthly_credits : limits.tenant.monthly_credits;
  const ownLeft = leftUnits(ownLimit, own);
  const bounds = [ownLeft, user ? leftUnits(limits.tenant.monthly_credits, tenant) : null];
  const limited = bounds.filter((b): b is number => b !== null);
  const spendable = limited.length === 0 ? null : Math.min(...limited);
  const used = fromUnits(own.usedUnits + own.reservedUnits);
  return {
    token: {
      remaining_credits: shown(ownLeft),
      unlimited_credits: ownLimit === undefined,
      used_credits: used,
    },
    user: { remaining_credits: shown(spendable), used_credits: used },
  };
}
