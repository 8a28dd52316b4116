// Window roll-overs with an injected clock: the tenant's Durable Object is called with a chosen `now`
// (admission takes the clock as a parameter), so a minute or a month passes without waiting for it. The
// app passes Date.now(); how the app renders these decisions is covered by limits.test.ts.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { age } from "../helpers/alarm";
import { objectOf } from "../helpers/objects";
import { admitAt, uniqueTenantId } from "./helpers";

const NOV_30_LAST_MS = Date.UTC(2026, 11, 1) - 1;
const DEC_1 = Date.UTC(2026, 11, 1);

describe("requests_per_minute: the sliding window", () => {
  it.each(["tenant", "user"] as const)(
    "%s: a slot frees exactly 60 s after the admission that held it",
    async (scope) => {
      const id = uniqueTenantId();
      const T0 = Date.UTC(2026, 5, 1, 12);
      const limits =
        scope === "tenant" ? { tenant: { requests_per_minute: 3 } } : { user: { requests_per_minute: 3 } };
      for (const dt of [0, 10_000, 20_000])
        expect((await admitAt(id, T0 + dt, { ...limits, sub: "alice" })).kind).toBe("admitted");

      const at30 = await admitAt(id, T0 + 30_000, { ...limits, sub: "alice" });
      expect(at30).toMatchObject({
        kind: "refused",
        refusal: { limit: "requests_per_minute", scope, retryAfterS: 30 },
      });
      const justBefore = await admitAt(id, T0 + 59_999, { ...limits, sub: "alice" });
      expect(justBefore).toMatchObject({ kind: "refused", refusal: { retryAfterS: 1 } });
      expect((await admitAt(id, T0 + 60_000, { ...limits, sub: "alice" })).kind).toBe("admitted");
      // The window now holds T0+10 s, T0+20 s, T0+60 s: the next slot frees at T0+70 s.
      expect(await admitAt(id, T0 + 61_000, { ...limits, sub: "alice" })).toMatchObject({
        refusal: { retryAfterS: 9 },
      });
      expect((await admitAt(id, T0 + 70_000, { ...limits, sub: "alice" })).kind).toBe("admitted");
      if (scope === "user")
        expect((await admitAt(id, T0 + 70_000, { ...limits, sub: "bob" })).kind).toBe("admitted");
    },
  );
});

describe("requests_per_minute: a window over the limit", () => {
  it("waits until enough admissions have left; the object's kept window counts all (the table, to limit + 1)", async () => {
    const id = uniqueTenantId();
    const T0 = Date.UTC(2026, 5, 1, 12);
    const rpm = (n: number) => ({ tenant: { requests_per_minute: n } });
    for (let i = 0; i < 5; i++) expect((await admitAt(id, T0 + i * 1000, rpm(10))).kind).toBe("admitted");

    // The limit drops to 2 with 5 in the window: it is under 2 again once T0 + 3 s has left, at T0 + 63 s.
    const refused = await admitAt(id, T0 + 10_000, rpm(2));
    expect(refused).toMatchObject({
      kind: "refused",
      refusal: { limit: "requests_per_minute", retryAfterS: 53 },
    });
    if (refused.kind === "refused")
      // The window the object keeps in memory since the first admission is whole (src/quota/recent.ts); a
      // scope read from the table would stop at limit + 1 (test/quota/open-tasks.test.ts): the same refusal.
      expect(refused.scopes[0]!.state.window).toEqual({ count: 5, oldest: T0, freesSlot: T0 + 3_000 });
    const usage = await (await objectOf(id)).usage(null, T0 + 10_000, { ...rpm(2), user: {} });
    expect(usage.tenant.window).toEqual({ count: 5, oldest: T0, freesSlot: null });

    expect(await admitAt(id, T0 + 62_001, rpm(2))).toMatchObject({ refusal: { retryAfterS: 1 } });
    expect((await admitAt(id, T0 + 63_000, rpm(2))).kind).toBe("admitted");
  });
});

describe("requests_per_minute: the window kept in memory stays exact", () => {
  it("an aborted admission leaves it; a task aged behind the object's back is read again", async () => {
    const id = uniqueTenantId();
    const T0 = Date.UTC(2026, 5, 2, 12);
    const rpm = { tenant: { requests_per_minute: 3 } };
    const first = await admitAt(id, T0, rpm);
    expect((await admitAt(id, T0 + 1, rpm)).kind).toBe("admitted");
    expect((await admitAt(id, T0 + 2, rpm)).kind).toBe("admitted");
    expect((await admitAt(id, T0 + 3, rpm)).kind).toBe("refused");
    // The upstream call of the first failed: its slot is free at once.
    if (first.kind !== "admitted") throw new Error(first.kind);
    await (await objectOf(id)).abortTask(first.taskId, T0 + 4);
    expect((await admitAt(id, T0 + 5, rpm)).kind).toBe("admitted");
    expect((await admitAt(id, T0 + 6, rpm)).kind).toBe("refused");
    // Every admission moved two minutes into the past (as test/helpers/alarm.ts does): the window is empty.
    await age(id, 120_000);
    expect((await admitAt(id, T0 + 7, rpm)).kind).toBe("admitted");
  });
});

describe("monthly_credits: calendar months in UTC", () => {
  it.each(["tenant", "user"] as const)("%s: the budget renews at 00:00 UTC on the 1st", async (scope) => {
    const id = uniqueTenantId();
    const limits =
      scope === "tenant" ? { tenant: { monthly_credits: 30 } } : { user: { monthly_credits: 30 } };
    const state = await objectOf(id);
    expect((await admitAt(id, NOV_30_LAST_MS - 1000, { ...limits, estimate: 20 })).kind).toBe("admitted");
    const late = await admitAt(id, NOV_30_LAST_MS, { ...limits, estimate: 20 });
    expect(late).toMatchObject({
      kind: "refused",
      refusal: { limit: "monthly_credits", scope, usedUnits: 0, reservedUnits: 200_000, resetsAt: DEC_1 },
    });
    // November's task is still running; its reservation belongs to November, not December.
    expect((await admitAt(id, DEC_1, { ...limits, estimate: 20 })).kind).toBe("admitted");
    const dec = await state.usage("user-1", DEC_1);
    expect(dec[scope]).toMatchObject({ usedUnits: 0, reservedUnits: 200_000, active: 2 });
    const nov = await state.usage("user-1", NOV_30_LAST_MS);
    expect(nov[scope]).toMatchObject({ reservedUnits: 200_000 });
  });

  it("concurrency does not renew with the month", async () => {
    const id = uniqueTenantId();
    const limits = { tenant: { max_concurrent_tasks: 1, monthly_credits: 1000 } };
    expect((await admitAt(id, NOV_30_LAST_MS, limits)).kind).toBe("admitted");
    expect(await admitAt(id, DEC_1, limits)).toMatchObject({ refusal: { limit: "max_concurrent_tasks" } });
  });

  it("December rolls into January", async () => {
    const id = uniqueTenantId();
    const limits = { tenant: { monthly_credits: 10 } };
    expect((await admitAt(id, Date.UTC(2026, 11, 31, 23, 59, 59), { ...limits, estimate: 10 })).kind).toBe(
      "admitted",
    );
    expect(
      await admitAt(id, Date.UTC(2026, 11, 31, 23, 59, 59, 999), { ...limits, estimate: 10 }),
    ).toMatchObject({
      refusal: { resetsAt: Date.UTC(2027, 0, 1) },
    });
    expect((await admitAt(id, Date.UTC(2027, 0, 1), { ...limits, estimate: 10 })).kind).toBe("admitted");
  });
});
