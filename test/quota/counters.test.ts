// The ledger's invariants: after any mix of admissions, attaches with a larger upstream reservation,
// aborts, idempotent retries that revive an aborted task, completions, failures and repeated end reports,
// across users and months, the `quota_months` counters equal the sums over the tasks table (reserved for
// running tasks, charged for ended ones), and the `quota_open` counters equal the open tasks per scope —
// also after ended tasks are purged.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { toUnits } from "../../src/quota/arithmetic";
import { monthOf } from "../../src/util/month";
import { objectOf } from "../helpers/objects";
import { TaskTable } from "../../src/tasks/table";
import { admitAt, openCounters, uniqueTenantId } from "./helpers";

type Sum = { scope: string; month: string; used: number; reserved: number };

describe("the credit ledger", () => {
  it("always equals the sums over the tasks table", async () => {
    const id = uniqueTenantId();
    const state = await objectOf(id);
    // Next year's October/November: in the future, so the object's own alarm (woken by every end) finds no
    // sweep deadline due and leaves the tasks in `creating` and in flight as this test made them.
    const y = new Date().getUTCFullYear() + 1;
    const months = [Date.UTC(y, 9, 31, 23, 59), Date.UTC(y, 10, 1), Date.UTC(y, 10, 15)];
    const subs = ["alice", "bob", null];
    let n = 0;
    let aborts = 0;
    let seed = 7;
    const rand = (k: number) => (seed = (seed * 48271) % 2147483647) % k;
    for (const at of months) {
      for (let i = 0; i < 12; i++) {
        const now = at + i * 1000;
        const opts = {
          sub: subs[i % 3]!,
          estimate: 9 + (i % 5) * 3.97,
          key: { key: `k${n}`, hash: "h" },
        };
        const admitted = await admitAt(id, now, opts);
        if (admitted.kind !== "admitted") throw new Error("not admitted");
        const taskId = admitted.taskId;
        const upstreamId = `task-unified-${Math.floor(now / 1000)}-up${n++}`;
        const fate = rand(5);
        if (fate === 0) {
          await state.abortTask(taskId, now + 10);
          const retry = aborts++ % 3;
          if (retry === 0) continue;
          // The client retries with the same Idempotency-Key: the aborted task is revived (same id)…
          expect(await admitAt(id, now + 20, opts)).toMatchObject({ kind: "admitted", taskId });
          // … and its upstream call fails again, or it stays in `creating` for the sweeper.
          if (retry === 1) await state.abortTask(taskId, now + 30);
          continue;
        }
        const reserved = rand(2) ? 31.4159 : 1;
        await state.attachUpstream(
          taskId,
          `pub-${taskId}`,
          { id: upstreamId, status: "pending", usage: { credits_reserved: reserved } },
          now + 10,
        );
        if (fate === 1) continue; // still running
        const status = fate === 2 ? "failed" : fate === 3 ? "cancelled" : "completed";
        const usage = rand(2) ? { credits_used: 12.3456 } : undefined;
        for (let r = 0; r < 3; r++)
          await state.observe(taskId, { id: upstreamId, status, ...(usage ? { usage } : {}) }, now + 20 + r);
      }
    }

    const [counters, sums] = await runInDurableObject(state, (_o, s: DurableObjectState) => {
      const sql = s.storage.sql;
      const counters = sql
        .exec<Sum>("SELECT scope, month, used, reserved FROM quota_months ORDER BY scope, month")
        .toArray();
      const tasks = sql
        .exec<{
          sub: string | null;
          created_at: number;
          reserved: number;
          charged: number | null;
          state: string;
        }>("SELECT sub, created_at, reserved, charged, state FROM tasks")
        .toArray();
      return [counters, tasks] as const;
    });
    const expected = new Map<string, Sum>();
    for (const t of sums) {
      for (const scope of t.sub === null ? ["tenant"] : ["tenant", `user:${t.sub}`]) {
        const k = `${scope} ${monthOf(t.created_at)}`;
        const e = expected.get(k) ?? { scope, month: monthOf(t.created_at), used: 0, reserved: 0 };
        if (t.charged === null) e.reserved += toUnits(t.reserved);
        else e.used += toUnits(t.charged);
        expected.set(k, e);
      }
    }
    const nonZero = (rows: Sum[]) =>
      rows
        .filter((r) => r.used !== 0 || r.reserved !== 0)
        .sort((a, b) => `${a.scope}${a.month}`.localeCompare(`${b.scope}${b.month}`));
    expect(nonZero(counters)).toEqual(nonZero([...expected.values()]));
    expect(sums.some((t) => t.state === "aborted")).toBe(true);
    expect(sums.some((t) => t.state === "creating")).toBe(true);
    expect(sums.some((t) => t.charged === null)).toBe(true);
    expect(sums.some((t) => t.state === "completed")).toBe(true);

    const [open, afterPurge, purged] = await runInDurableObject(state, (_o, s: DurableObjectState) => {
      const sql = s.storage.sql;
      const open = openCounters(sql);
      // The sweeper's purge deletes ended tasks whose end reached KV; the tasks in flight stay counted.
      sql.exec("UPDATE tasks SET kv_synced_at = ended_at WHERE ended_at IS NOT NULL");
      const purged = new TaskTable(sql).purgeEnded(Date.UTC(y + 1, 0, 1), 1000);
      return [open, openCounters(sql), purged] as const;
    });
    expect(open.counters).toEqual(open.expected);
    expect(open.counters.map(([scope]) => scope)).toEqual(["tenant", "user:alice", "user:bob"]);
    expect(purged).toBeGreaterThan(0);
    expect(afterPurge.counters).toEqual(open.counters);
    expect(afterPurge.expected).toEqual(open.expected);
  });
});
