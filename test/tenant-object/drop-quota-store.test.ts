// Migration "tasks/drop-quota-store": the `quota_store` column, unread since QUOTA_STORE=kv was retired, is
// dropped from new objects and from existing ones, whose tasks (and the trigger-kept counters of quota/2)
// come through unchanged.
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { migrate } from "../../src/state/migrations";
import { TaskTable } from "../../src/tasks/table";
import { TENANT_OBJECT_MIGRATIONS } from "../../src/tenant-object/migrations";
import { objectOf } from "../helpers/objects";
import { openCounters } from "../quota/helpers";

const STEP = "tasks/drop-quota-store";
const T0 = Date.UTC(2026, 10, 24, 12);

function columns(sql: SqlStorage): string[] {
  return sql
    .exec<{ name: string }>("SELECT name FROM pragma_table_info('tasks')")
    .toArray()
    .map((r) => r.name);
}

describe(`migration "${STEP}"`, () => {
  it("a new object's tasks table has no quota_store column", async () => {
    const state = await objectOf(`dropqs-${crypto.randomUUID().slice(0, 8)}`);
    const cols = await runInDurableObject(state, (_o, s: DurableObjectState) => columns(s.storage.sql));
    expect(cols).toContain("kv_synced_at");
    expect(cols).not.toContain("quota_store");
  });

  it("drops it from an object made before the step, keeping its tasks and the open-task counters", async () => {
    const state = await objectOf(`dropqs-${crypto.randomUUID().slice(0, 8)}`);
    const result = await runInDurableObject(state, (_o, s: DurableObjectState) => {
      const sql = s.storage.sql;
      // The object as the code before the step left it: the column back, the step not yet applied.
      sql.exec("ALTER TABLE tasks ADD COLUMN quota_store TEXT NOT NULL DEFAULT 'durable_object'");
      sql.exec("DELETE FROM migrations WHERE name = ?", STEP);
      const tasks = new TaskTable(sql);
      for (let i = 0; i < 30; i++)
        tasks.insert({
          id: `row-${i}`,
          sub: `u${i % 3}`,
          model: "wan2.6-reference-video-flash",
          createdAt: T0 + i,
          callbackUrl: null,
          estimate: 10,
          reserved: 10,
        });
      tasks.attach("row-0", "pub-0", { id: "up-0", status: "pending" }, 10, T0 + 50);
      tasks.record("row-0", { id: "up-0", status: "completed" }, T0 + 100);
      const before = { cols: columns(sql), rows: sql.exec("SELECT * FROM tasks ORDER BY id").toArray() };
      migrate(sql, TENANT_OBJECT_MIGRATIONS);
      const after = { cols: columns(sql), rows: sql.exec("SELECT * FROM tasks ORDER BY id").toArray() };
      // The quota/2 triggers still count: one more task ends after the step.
      tasks.abort("row-1", T0 + 200);
      return { before, after, counters: openCounters(sql) };
    });
    expect(result.before.cols).toContain("quota_store");
    expect(result.after.cols).not.toContain("quota_store");
    expect(result.after.cols).toEqual(result.before.cols.filter((c) => c !== "quota_store"));
    expect(result.after.rows).toEqual(
      result.before.rows.map(({ quota_store: _, ...rest }) => rest as Record<string, unknown>),
    );
    expect(result.counters.counters).toEqual(result.counters.expected);
    expect(result.counters.counters).toContainEqual(["tenant", 28]);
  });
});
