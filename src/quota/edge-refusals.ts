// Rate refusals the tenant's object already made, remembered in the isolate until they run out, so a flood
// of requests over a requests-per-minute limit is refused at the edge without reaching the object. It never
// admits: a miss always goes to the object, which decides. Only rate-window refusals are remembered — until
// their Retry-After nothing in that window can leave it — and only under the limit that produced them, so
// an operator who raises the limit is not held to the old one.
import { EDGE_REFUSALS_MAX } from "../config/constants";
import type { Limits } from "./limits";
import type { Refusal, ScopeInput } from "./arithmetic";

interface Remembered {
  refusal: Extract<Refusal, { limit: "requests_per_minute" }>;
  scopes: ScopeInput[];
  until: number;
}

const remembered = new Map<string, Remembered>();

function keyOf(object: string, scope: "tenant" | "user", sub: string | null, max: number): string {
  return scope === "tenant" ? `${object}\ntenant\n${max}` : `${object}\nuser\n${max}\n${sub}`;
}

/** What the object would answer now, as far as the edge can tell for certain; null: ask the object. */
export function edgeRefusal(
  object: string,
  sub: string | null,
  limits: Limits,
  now: number,
): { refusal: Refusal; scopes: ScopeInput[] } | null {
  if (remembered.size === 0) return null;
  const keys: string[] = [];
  if (limits.tenant.requests_per_minute !== undefined)
    keys.push(keyOf(object, "tenant", null, limits.tenant.requests_per_minute));
  if (sub !== null && limits.user.requests_per_minute !== undefined)
    keys.push(keyOf(object, "user", sub, limits.user.requests_per_minute));
  for (const key of keys) {
    const hit = remembered.get(key);
    if (!hit) continue;
    if (hit.until <= now) {
      remembered.delete(key);
      continue;
    }
    const retryAfterS = Math.max(1, Math.ceil((hit.until - now) / 1000));
    return { refusal: { ...hit.refusal, retryAfterS }, scopes: hit.scopes };
  }
  return null;
}

/** Remembers a refusal the object made at `now` (other kinds of refusal are not remembered). */
export function rememberRefusal(
  object: string,
  sub: string | null,
  refusal: Refusal,
  scopes: ScopeInput[],
  now: number,
): void {
  if (refusal.limit !== "requests_per_minute") return;
  if (remembered.size >= EDGE_REFUSALS_MAX) remembered.delete(remembered.keys().next().value as string);
  remembered.set(keyOf(object, refusal.scope, sub, refusal.max), {
    refusal,
    scopes,
    until: now + refusal.retryAfterS * 1000,
  });
}
