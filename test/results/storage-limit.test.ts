// The storage limits of kept results (`quotas.result_storage_bytes`, `user_quotas.result_storage_bytes`): a
// result that would pass one is not copied, and nothing else is evicted to make room. Its URL still works while
// the upstream's link does, the admin view says `results_stored: false`, and the refusal is logged by name.
import { afterEach, describe, expect, it, vi } from "vitest";
import { eventually } from "../callbacks/helpers";
import { gw, startSimulator } from "../helpers/gateway";
import { BYTES, completed, inObject, keysUnder, pathOf, storedIs, tenantWith } from "./helpers";

afterEach(() => vi.restoreAllMocks());

function refusals(spy: { mock: { calls: unknown[][] } }): Record<string, unknown>[] {
  return spy.mock.calls
    .map((args) => String(args[0]))
    .filter((line) => line.includes('"result_storage_refused"'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("result storage limits", () => {
  it("the tenant's limit: the result that would pass it is not kept, served from the upstream while it lives", async () => {
    const warn = vi.spyOn(console, "warn");
    const t = await tenantWith({ quotas: { result_storage_bytes: BYTES + BYTES / 2 } });
    const h = startSimulator();
    const first = await completed(t, h);
    await storedIs(t, first.id, true);
    const second = await completed(t, h);
    await storedIs(t, second.id, false);
    await eventually(() => expect(refusals(warn)).toHaveLength(1));
    expect(refusals(warn)[0]).toMatchObject({
      event: "result_storage_refused",
      tenant_id: t.id,
      scope: "tenant",
      limit: "result_storage_bytes",
      max: BYTES + BYTES / 2,
      used: BYTES,
      needed: BYTES,
    });
    const [row] = await inObject(t.id, (sql) =>
      sql.exec("SELECT state FROM results ORDER BY stored_at IS NULL, stored_at").toArray().slice(1),
    );
    expect(row).toEqual({ state: "refused" });
    // The first result is untouched: one object, and it still serves.
    expect(await keysUnder(`results/${t.id}/`)).toHaveLength(1);
    expect((await gw(pathOf(first.results[0]!))).status).toBe(200);
    // The refused one streams from the upstream's link while it lives, then is 404.
    const live = await gw(pathOf(second.results[0]!));
    expect(live.status).toBe(200);
    expect((await live.arrayBuffer()).byteLength).toBe(BYTES);
    await h.clock.advance(25 * 3_600_000);
    expect((await gw(pathOf(second.results[0]!))).status).toBe(404);
    expect((await gw(pathOf(first.results[0]!))).status).toBe(200);
  });

  it("a user's limit refuses that user's result", async () => {
    const warn = vi.spyOn(console, "warn");
    const t = await tenantWith({ user_quotas: { result_storage_bytes: BYTES - 1 } });
    const c = await completed(t);
    await storedIs(t, c.id, false);
    await eventually(() => expect(refusals(warn)).toHaveLength(1));
    expect(refusals(warn)[0]).toMatchObject({ scope: "user", max: BYTES - 1, used: 0, needed: BYTES });
    expect(await keysUnder(`results/${t.id}/`)).toEqual([]);
  });
});
