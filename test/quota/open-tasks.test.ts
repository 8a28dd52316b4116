// Admission's cost does not grow with the tenant's tasks: thousands of tasks in flight are counted by the
// trigger-kept `quota_open` counters (migration "quota/2"), and an admission reads a number of rows bounded
// by the scope's limits — measured with SQLite's own rows-read count, not with a clock. Also: objects
// created before "quota/2" get their counters backfilled from the tasks table.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { admit, type AdmitRequest, type AdmitResult } from "../../src/quota/admission";
import { IdempotencyTable } from "../../src/idempotency/keys";
import { QuotaCounters } from "../../src/quota/counters";
import { QUOTA_MIGRATIONS } from "../../src/quota/migrations";
import { migrate } from "../../src/state/migrations";
import { objectOf } from "../helpers/objects";
import { type NewTask, TaskTable } from "../../src/tasks/table";
import { VALID_BODY } from "../helpers/gateway";
import { admitAt, openCounters, uniqueTenantId } from "./helpers";

const T0 = Date.UTC(2026, 10, 24, 12);
const USERS = 20;

function newTask(i: number, createdAt: number, sub: string | null = `u${i % USERS}`): NewTask {
  return {
    id: `task-unified-seed-${i}`,
    sub,
    model: VALID_BODY.model,
    createdAt,
    callbackUrl: null,
    retentionDays: 0,
    estimate: 10,
    reserved: 10,
  };
}

/**
 * Fills a tenant's tasks table straight through TaskTable, numbering tasks from `first`: `open` tasks in
 * flight (attached, created an hour before T0), as many ended and aborted ones, and `inWindow` admissions
 * in the minute before T0, all ended (one in ten aborted).
 */
function seed(sql: SqlStorage, open: number, inWindow: number, first = 0): void {
  const tasks = new TaskTable(sql);
  let i = first;
  for (let k = 0; k < open * 3; k++, i++) {
    const t = newTask(i, T0 - 3_600_000 + k);
    tasks.insert(t);
    if (k % 3 === 2) tasks.abort(t.id, T0 - 1_000_000);
    else tasks.attach(t.id, `pub-${i}`, { id: `up-${i}`, status: "pending" }, 10, T0 - 3_000_000);
    if (k % 3 === 1) tasks.record(t.id, { id: `up-${i}`, status: "completed" }, T0 - 2_000_000);
  }
  for (let k = 0; k < inWindow; k++, i++) {
    const t = newTask(i, T0 - 59_000 + Math.floor((k * 58_000) / inWindow));
    tasks.insert(t);
    if (k % 10 === 9) {
      tasks.abort(t.id, T0 - 1_000);
      continue;
    }
    tasks.attach(t.id, `pub-${i}`, { id: `up-${i}`, status: "pending" }, 10, T0 - 1_000);
    tasks.record(t.id, { id: `up-${i}`, status: "failed" }, T0 - 500);
  }
}

/** Runs one admission in the object with every statement's rows read added up. */
function countedAdmit(sql: SqlStorage, request: AdmitRequest): { result: AdmitResult; rowsRead: number } {
  const cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
  const counting = {
    exec(query: string, ...bindings: unknown[]) {
      const cursor = sql.exec(query, ...bindings);
      cursors.push(cursor);
      return cursor;
    },
  } as SqlStorage;
  const tables = {
    tasks: new TaskTable(counting),
    counters: new QuotaCounters(counting),
    idempotency: new IdempotencyTable(counting),
  };
  const result = admit(tables, request);
  return { result, rowsRead: cursors.reduce((n, c) => n + c.rowsRead, 0) };
}

const request = (i: number, limits: AdmitRequest["limits"]): AdmitRequest => ({
  task: newTask(1_000_000 + i, T0, "u1"),
  limits,
  idempotency: null,
});

describe("admission with thousands of tasks", () => {
  it("reads a number of rows bounded by the limits, not by the tasks in flight or in the window", async () => {
    const state = await objectOf(uniqueTenantId());
    const reads = await runInDurableObject(state, (_o, s: DurableObjectState) => {
      const sql = s.storage.sql;
      seed(sql, 2_000, 40);
      const limits = {
        tenant: { requests_per_minute: 50, max_concurrent_tasks: 5_000, monthly_credits: 1e9 },
        user: { requests_per_minute: 20, max_concurrent_tasks: 1_000, monthly_credits: 1e6 },
      };
      const admitted = countedAdmit(sql, request(1, limits));
      // 300 more admissions in the window: far over a limit of 50, refused after reading about 50 of them.
      seed(sql, 0, 300, 100_000);
      const refused = countedAdmit(sql, request(2, limits));
      // For scale: what counting the tasks in flight costs.
      const counting = sql.exec("SELECT COUNT(*) AS n FROM tasks WHERE ended_at IS NULL");
      counting.toArray();
      return { admitted, refused, countingOpen: counting.rowsRead };
    });
    expect(reads.countingOpen).toBeGreaterThan(2_000);
    expect(reads.admitted.result.kind).toBe("admitted");
    expect(reads.refused.result).toMatchObject({
      kind: "refused",
      refusal: { limit: "requests_per_minute", scope: "tenant", max: 50 },
    });
    // The code before "quota/2" counted the tasks in flight and scanned them for the next expected end,
    // per scope, and read every admission of the window: several thousand rows each time here.
    expect(reads.admitted.rowsRead).toBeLessThan(150);
    expect(reads.refused.rowsRead).toBeLessThan(300);
  });

  it("decides concurrency from the counters: exactly the limit, with the first expected end", async () => {
    const id = uniqueTenantId();
    const state = await objectOf(id);
    await runInDurableObject(state, (_o, s: DurableObjectState) => seed(s.storage.sql, 2_000, 0));
    const limits = { tenant: { max_concurrent_tasks: 2_001 }, user: { max_concurrent_tasks: 101 } };
    const last = await admitAt(id, T0, { sub: "u7", ...limits });
    expect(last).toMatchObject({ kind: "admitted" });
    // Taking the last slot, the RateLimit state knows when the first running task is expected to end:
    // the oldest seeded one, an hour ago + the default 120 s, so already overdue.
    if (last.kind === "admitted")
      expect(last.scopes[0]!.state).toMatchObject({ active: 2_001, nextEndAt: T0 - 3_600_000 + 120_000 });
    expect(await admitAt(id, T0 + 1, { sub: "u8", ...limits })).toMatchObject({
      kind: "refused",
      refusal: { limit: "max_concurrent_tasks", scope: "tenant", active: 2_001, retryAfterS: 5 },
    });
    // u8 has 100 seeded tasks in flight: one more fits under its 101, then its own limit refuses.
    const userOnly = { user: { max_concurrent_tasks: 101 } };
    expect(await admitAt(id, T0 + 2, { sub: "u8", ...userOnly })).toMatchObject({ kind: "admitted" });
    expect(await admitAt(id, T0 + 3, { sub: "u8", ...userOnly })).toMatchObject({
      refusal: { limit: "max_concurrent_tasks", scope: "user", active: 101 },
    });
    const usage = await state.usage("u8", T0 + 4);
    expect(usage.tenant.active).toBe(2_002);
    expect(usage.user!.active).toBe(101);
    const { counters, expected } = await runInDurableObject(state, (_o, s: DurableObjectState) =>
      openCounters(s.storage.sql),
    );
    expect(counters).toEqual(expected);
    expect(counters.length).toBe(1 + USERS);
  });
});

describe('migration "quota/2"', () => {
  const step = QUOTA_MIGRATIONS.find((m) => m.name === "quota/2")!;

  /** Takes an object back to the schema before "quota/2": drops what the step creates. */
  function undo(sql: SqlStorage): void {
    for (const [, kind, name] of step.sql.matchAll(/CREATE (TABLE|TRIGGER|INDEX) (\w+)/g))
      sql.exec(`DROP ${kind!} ${name!}`);
    sql.exec("DELETE FROM migrations WHERE name = ?", step.name);
  }

  it("backfills the counters of an existing object from its tasks, then keeps them", async () => {
    const id = uniqueTenantId();
    const state = await objectOf(id);
    const result = await runInDurableObject(state, (_o, s: DurableObjectState) => {
      const sql = s.storage.sql;
      undo(sql);
      const before = sql
        .exec<{ name: string }>("SELECT name FROM sqlite_master WHERE name LIKE '%quota_open%'")
        .toArray();
      // Tasks written by the code of the time: in flight, ended, aborted, revived, and without a user.
      seed(sql, 300, 50);
      const tasks = new TaskTable(sql);
      tasks.insert(newTask(9_000, T0, null));
      tasks.insert(newTask(9_001, T0, "solo"));
      tasks.abort(newTask(9_001, T0).id, T0 + 1);
      tasks.revive(newTask(9_001, T0 + 2, "solo"));
      migrate(sql, QUOTA_MIGRATIONS);
      const backfilled = openCounters(sql);
      // From here the triggers keep them: a task ends, one is aborted, one is deleted while open.
      tasks.record(newTask(0, 0).id, { id: "up-0", status: "completed" }, T0 + 3);
      tasks.abort(newTask(9_001, T0 + 2, "solo").id, T0 + 4);
      sql.exec("DELETE FROM tasks WHERE id = ?", newTask(3, 0).id);
      return { before, backfilled, after: openCounters(sql) };
    });
    expect(result.before).toEqual([]);
    expect(result.backfilled.counters).toEqual(result.backfilled.expected);
    expect(result.backfilled.counters).toContainEqual(["tenant", 302]);
    expect(result.backfilled.counters).toContainEqual(["user:solo", 1]);
    expect(result.after.counters).toEqual(result.after.expected);
    expect(result.after.counters).toContainEqual(["tenant", 299]);
    expect(result.after.counters.find(([scope]) => scope === "user:solo")).toBeUndefined();
    // Admission reads them: 299 in flight, so a limit of 300 has one slot left.
    const limits = { tenant: { max_concurrent_tasks: 300 } };
    expect(await admitAt(id, T0 + 5, limits)).toMatchObject({ kind: "admitted" });
    expect(await admitAt(id, T0 + 6, limits)).toMatchObject({ refusal: { active: 300 } });
  });
});
