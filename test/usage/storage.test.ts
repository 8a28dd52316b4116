// Kept-result storage in the usage views, through the real app: the bytes a tenant and its users keep in the
// RESULTS bucket and the month's byte-days, in GET /v1/usage, the operator's ledger and the console's daily view;
// the byte-days grow with time and split at month boundaries; a deleted task's bytes leave the figures.
import { describe, expect, it } from "vitest";
import { byteMsByMonth } from "../../src/results/table";
import { monthOf, monthStart } from "../../src/util/month";
import { eventually } from "../callbacks/helpers";
import { admin, gw } from "../helpers/gateway";
import { BYTES, completed, inObject, storedIs, tenantWith } from "../results/helpers";
import type { TenantFixture } from "../fixtures/tenants";

const DAY = 86_400_000;

async function usage(t: TenantFixture, sub: string | null): Promise<Record<string, any>> {
  const res = await gw("/v1/usage", { headers: { authorization: `Bearer ${await t.token({ sub })}` } });
  expect(res.status).toBe(200);
  const body = (await res.json()) as Record<string, any>;
  return (sub === null ? body.tenant : body.user).results;
}

async function adminJson(path: string): Promise<Record<string, any>> {
  const res = await admin(path);
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, any>;
}

/** Byte-days of `bytes` kept over [from, to] that fall in [start, end), as the test reckons them. */
const expectedDays = (bytes: number, from: number, to: number, start: number, end: number) =>
  (bytes * Math.max(0, Math.min(to, end) - Math.max(from, start))) / DAY;

/** Within a few seconds' byte-days of `want` (the app reads its own clock a little later). */
function near(got: number, want: number) {
  expect(got).toBeGreaterThanOrEqual(Math.floor(want) - 1);
  expect(got).toBeLessThanOrEqual(Math.ceil(want) + (BYTES * 10_000) / DAY);
}

describe("kept-result storage in the usage views", () => {
  it("shows a kept result's bytes for the tenant and its user, against their limits", async () => {
    const t = await tenantWith({
      quotas: { result_storage_bytes: 1_000_000 },
      user_quotas: { result_storage_bytes: 200_000 },
    });
    expect((await usage(t, "user-1")).result_storage_bytes).toEqual({
      limit: 200_000,
      used: 0,
      remaining: 200_000,
    });
    const c = await completed(t);
    await storedIs(t, c.id, true);

    const user = await usage(t, "user-1");
    expect(user.result_storage_bytes).toEqual({ limit: 200_000, used: BYTES, remaining: 200_000 - BYTES });
    expect(user.result_byte_days).toMatchObject({ month: monthOf(Date.now()), used: expect.any(Number) });
    expect((await usage(t, null)).result_storage_bytes).toEqual({
      limit: 1_000_000,
      used: BYTES,
      remaining: 1_000_000 - BYTES,
    });
    // Another user of the tenant keeps nothing; no limit set reads as null.
    expect((await usage(t, "user-2")).result_storage_bytes).toEqual({
      limit: 200_000,
      used: 0,
      remaining: 200_000,
    });
    const open = await tenantWith();
    expect((await usage(open, null)).result_storage_bytes).toEqual({ limit: null, used: 0, remaining: null });
  });

  it("byte-days grow with the time the bytes are kept, split by month, in every view", async () => {
    const t = await tenantWith({ quotas: { result_storage_bytes: 1_000_000 } });
    const c = await completed(t);
    await storedIs(t, c.id, true);
    // The bytes have been kept for 40 days: more than a month, so the current month counts from its start
    // and the month before holds the rest (or all of itself).
    const since = Date.now() - 40 * DAY;
    await inObject(t.id, (sql) => sql.exec("UPDATE result_storage SET changed_at = ?", since));
    const now = Date.now();
    const thisMonth = monthStart(now);
    const lastMonth = monthStart(thisMonth - 1);
    const current = expectedDays(BYTES, since, now, thisMonth, Infinity);
    const previous = expectedDays(BYTES, since, now, lastMonth, thisMonth);
    expect(current).toBeGreaterThan(0);
    expect(previous).toBeGreaterThan(BYTES * 8);

    near((await usage(t, "user-1")).result_byte_days.used, current);
    near((await usage(t, null)).result_byte_days.used, current);

    const ledger = await adminJson(`/admin/tenants/${t.id}/usage`);
    expect(ledger.result_storage).toHaveLength(2);
    expect(ledger.result_storage[0]).toMatchObject({ scope: "tenant", bytes: BYTES });
    expect(ledger.result_storage[1]).toMatchObject({ scope: "user", sub: "user-1", bytes: BYTES });
    for (const row of ledger.result_storage) near(row.byte_days, current);

    const before = await adminJson(`/admin/tenants/${t.id}/usage?month=${monthOf(lastMonth)}`);
    for (const row of before.result_storage) near(row.byte_days, previous);

    const daily = await adminJson(`/admin/tenants/${t.id}/usage/daily`);
    expect(daily.result_storage).toMatchObject({ bytes: BYTES, limit: 1_000_000 });
    near(daily.result_storage.byte_days, current);
    expect(daily.result_storage.users).toEqual([
      { sub: "user-1", bytes: BYTES, byte_days: expect.any(Number) },
    ]);
    near(daily.result_storage.users[0].byte_days, current);
    const dailyBefore = await adminJson(`/admin/tenants/${t.id}/usage/daily?month=${monthOf(lastMonth)}`);
    near(dailyBefore.result_storage.byte_days, previous);
  });

  it("a deleted task's bytes leave the figures; the byte-days it accrued stay billed", async () => {
    const t = await tenantWith();
    const c = await completed(t);
    await storedIs(t, c.id, true);
    const since = Math.max(monthStart(Date.now()), Date.now() - DAY);
    await inObject(t.id, (sql) => sql.exec("UPDATE result_storage SET changed_at = ?", since));
    const accrued = expectedDays(BYTES, since, Date.now(), since, Infinity);

    expect((await admin(`/admin/tenants/${t.id}/tasks/${c.id}`, { method: "DELETE" })).status).toBe(200);
    const after = await usage(t, "user-1");
    expect(after.result_storage_bytes.used).toBe(0);
    near(after.result_byte_days.used, accrued);
    const daily = await adminJson(`/admin/tenants/${t.id}/usage/daily`);
    expect(daily.result_storage.bytes).toBe(0);
    expect(daily.result_storage.users).toEqual([{ sub: "user-1", bytes: 0, byte_days: expect.any(Number) }]);
  });

  it("a result the storage limit refused counts nothing", async () => {
    const t = await tenantWith({ quotas: { result_storage_bytes: BYTES - 1 } });
    const c = await completed(t);
    await eventually(async () => {
      const task = await adminJson(`/admin/tenants/${t.id}/tasks/${c.id}`);
      expect(task).toMatchObject({ results_stored: false, results_not_stored: "storage_limit" });
    });
    expect((await usage(t, null)).result_storage_bytes).toEqual({
      limit: BYTES - 1,
      used: 0,
      remaining: BYTES - 1,
    });
  });
});

describe("byteMsByMonth", () => {
  it("splits a constant figure at UTC month boundaries", () => {
    const nov30 = Date.UTC(2026, 10, 30, 12);
    const dec2 = Date.UTC(2026, 11, 2, 0);
    expect(Object.fromEntries(byteMsByMonth(10, nov30, dec2))).toEqual({
      "2026-11": 10 * 12 * 3_600_000,
      "2026-12": 10 * DAY,
    });
    expect(byteMsByMonth(10, dec2, dec2).size).toBe(0);
    expect(byteMsByMonth(0, nov30, dec2).size).toBe(0);
  });
});
