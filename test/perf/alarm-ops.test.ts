// What arming the sweeper's deadlines costs inside the tenant object, counted exactly: the object reads its
// alarm once when it starts, and a create or an observation writes the alarm only when it brings the
// earliest deadline forward. (The Worker-side budget, object calls and KV reads, is storage-ops.test.ts.)
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it, vi } from "vitest";
import { objectOf } from "../helpers/objects";
import { startSimulator } from "../helpers/gateway";
import { createdId, generate, getTask, PASS_THROUGH, quotaTenant } from "../quota/helpers";

/** Spies on the object's alarm operations; `take()` returns the counts since the last call. */
async function alarmOps(tenantId: string) {
  const spies = await runInDurableObject(await objectOf(tenantId), (_o, state: DurableObjectState) => ({
    get: vi.spyOn(state.storage, "getAlarm"),
    set: vi.spyOn(state.storage, "setAlarm"),
    del: vi.spyOn(state.storage, "deleteAlarm"),
  }));
  return {
    /** setAlarm calls since the last `take()` that asked for a time at or before `now`. */
    wakes: (now: number) => spies.set.mock.calls.filter(([at]) => Number(at) <= now).length,
    take() {
      const counts = {
        getAlarm: spies.get.mock.calls.length,
        setAlarm: spies.set.mock.calls.length,
        deleteAlarm: spies.del.mock.calls.length,
      };
      for (const s of Object.values(spies)) s.mockClear();
      return counts;
    },
  };
}

describe("alarm operations per request inside the tenant object", () => {
  it("create: one setAlarm when the object has none armed, then none; observe: none until the end (one)", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true });
    // Results pass through: a kept result's copy runs in the same wake and lengthens it (docs/results.md).
    const t = await quotaTenant(undefined, undefined, PASS_THROUGH);
    const ops = await alarmOps(t.id); // the object is running: its start-up getAlarm is behind us

    const first = await createdId(await generate(t));
    expect(ops.take()).toEqual({ getAlarm: 0, setAlarm: 1, deleteAlarm: 0 });
    const second = await createdId(await generate(t));
    expect(ops.take()).toEqual({ getAlarm: 0, setAlarm: 0, deleteAlarm: 0 });

    expect((await getTask(t, first)).status).toBe(200); // a live poll never reaches the object
    expect(ops.take()).toEqual({ getAlarm: 0, setAlarm: 0, deleteAlarm: 0 });

    await clock.advance(10_000);
    expect((await getTask(t, second)).status).toBe(200); // this observation ends the task
    // One wake (alarm at now) for the outbox and the KV mirror; the settlement's own wake costs nothing
    // more. Counted by time, since the alarm it wakes may already be re-arming for a later deadline.
    // The poll tells the object after answering (waitUntil), so the wake follows the response.
    await vi.waitFor(() => expect(ops.wakes(Date.now())).toBe(1), { timeout: 5_000, interval: 20 });
  });
});
