// Quota test helpers: tenants with limits, generation requests through the real app, and direct calls into
// the tenant's Durable Object with a chosen `now` (the injected clock for window and month roll-overs).
import { env } from "cloudflare:workers";
import { expect } from "vitest";
import type { AdmitResult } from "../../src/quota/admission";
import { objectOf } from "../helpers/objects";
import { createTenant, hsTenant, type TenantFixture } from "../fixtures/tenants";
import { VALID_BODY, bearer, gw, withJson } from "../helpers/gateway";

export type Quotas = {
  requests_per_minute?: number;
  max_concurrent_tasks?: number;
  monthly_credits?: number;
};

/** 720p, 5 s, with audio: (5 + 5) × 2.38 = 23.8 credits, as the gateway and the simulator both price it. */
export const BODY_CREDITS = 23.8;

export function quotaTenant(
  quotas?: Quotas,
  user_quotas?: Quotas,
  extra: Record<string, unknown> = {},
): Promise<TenantFixture> {
  return createTenant(
    hsTenant({ ...(quotas ? { quotas } : {}), ...(user_quotas ? { user_quotas } : {}), ...extra }),
  );
}

/** A tenant whose results pass through (no copy on its object's alarm): for tests that count the alarm's work. */
export const PASS_THROUGH = { results: { retention_days: 0 } };

export async function generate(
  t: TenantFixture,
  opts: { sub?: string | null; body?: object; headers?: Record<string, string> } = {},
): Promise<Response> {
  const token = await t.token({ sub: opts.sub === undefined ? "user-1" : opts.sub });
  return gw("/v1/videos/generations", withJson(token, opts.body ?? VALID_BODY, opts.headers));
}

export async function createdId(res: Response): Promise<string> {
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

export async function usage(t: TenantFixture, sub: string | null = "user-1"): Promise<Record<string, any>> {
  const res = await gw("/v1/usage", bearer(await t.token({ sub })));
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, any>;
}

export async function getTask(t: TenantFixture, id: string, sub: string | null = "user-1") {
  return gw(`/v1/tasks/${id}`, bearer(await t.token({ sub })));
}

let seq = 0;

/** Admits a task straight into the tenant's Durable Object at `now` (no upstream call). */
export async function admitAt(
  tenantId: string,
  now: number,
  opts: {
    sub?: string | null;
    estimate?: number;
    tenant?: Quotas;
    user?: Quotas;
    key?: { key: string; hash: string };
  } = {},
): Promise<AdmitResult> {
  return (await objectOf(tenantId)).admit({
    task: {
      id: (++seq).toString(16).padStart(20, "0"),
      sub: opts.sub === undefined ? "user-1" : opts.sub,
      model: VALID_BODY.model,
      createdAt: now,
      callbackUrl: null,
      retentionDays: 0,
      estimate: opts.estimate ?? 10,
      reserved: opts.estimate ?? 10,
    },
    limits: { tenant: opts.tenant ?? {}, user: opts.user ?? {} },
    idempotency: opts.key ?? null,
  });
}

export function uniqueTenantId(): string {
  return `q-${crypto.randomUUID().slice(0, 12)}`;
}

export function upstreamTask(id: string, status: string, extra: Record<string, unknown> = {}) {
  return { id, status, ...extra } as never;
}

/** The `quota_open` counters (a tenant row at 0 left out) and what they should be: open tasks per scope. */
export function openCounters(sql: SqlStorage): {
  counters: [string, number][];
  expected: [string, number][];
} {
  const counters = sql
    .exec<{ scope: string; open: number }>(
      "SELECT scope, open FROM quota_open WHERE scope != 'tenant' OR open != 0 ORDER BY scope",
    )
    .toArray()
    .map((r): [string, number] => [r.scope, r.open]);
  const expected = sql
    .exec<{ scope: string; open: number }>(
      `SELECT 'tenant' AS scope, COUNT(*) AS open FROM tasks WHERE ended_at IS NULL
       UNION ALL SELECT 'user:' || sub, COUNT(*) FROM tasks WHERE ended_at IS NULL AND sub IS NOT NULL GROUP BY sub
       ORDER BY scope`,
    )
    .toArray()
    .filter((r) => r.open !== 0)
    .map((r): [string, number] => [r.scope, r.open]);
  return { counters, expected };
}
