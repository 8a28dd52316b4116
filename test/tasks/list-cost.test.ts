// The task list's cost does not grow with the tenant's history: with 100,000 tasks in the object, a page
// reads about a page of rows (plus a few counter rows for `total`), whatever the filters — measured with
// SQLite's own rows-read count, as test/quota/open-tasks.test.ts does for admission.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { TASK_LIST_COUNT_CAP, TASK_LIST_MAX_OFFSET } from "../../src/config/constants";
import { objectOf } from "../helpers/objects";
import { listTasks, type TaskListPage, type TaskListQuery } from "../../src/tasks/list";
import { uniqueTenantId } from "../quota/helpers";

const TASKS = 100_000;
const T0 = Date.UTC(2026, 10, 1);
const STATES = ["completed", "completed", "failed", "processing", "pending", "cancelled", "aborted"];
const FLASH = "wan2.6-reference-video-flash";

/** 100,000 tasks in one statement: one a second from T0, 50 users, two models, every state. */
function seed(sql: SqlStorage): void {
  sql.exec(
    `WITH RECURSIVE seq(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM seq WHERE i < ?)
     INSERT INTO tasks (id, sub, upstream_id, state, model, created_at, updated_at, ended_at, estimate,
       reserved, charged)
     SELECT printf('task-unified-seed-%06d', i), 'u' || (i % 50), 'up-' || i,
       CASE i % 7 ${STATES.map((s, k) => `WHEN ${k} THEN '${s}'`).join(" ")} END,
       CASE WHEN i % 3 = 0 THEN 'wan2.6-reference-video' ELSE '${FLASH}' END,
       ? + i * 1000, ? + i * 1000, CASE WHEN i % 7 IN (3, 4) THEN NULL ELSE ? + i * 1000 + 500 END, 10, 10,
       CASE WHEN i % 7 IN (3, 4) THEN NULL ELSE 10 END
     FROM seq`,
    TASKS - 1,
    T0,
    T0,
    T0,
  );
}

/** How many seeded tasks that `pick` selects a list shows (aborted ones are never listed). */
function listed(pick: (i: number) => boolean): number {
  let n = 0;
  for (let i = 0; i < TASKS; i++) if (pick(i) && STATES[i % 7] !== "aborted") n++;
  return n;
}

function counted(sql: SqlStorage, q: Partial<TaskListQuery>): { page: TaskListPage; rowsRead: number } {
  const cursors: SqlStorageCursor<Record<string, SqlStorageValue>>[] = [];
  const counting = {
    exec(query: string, ...bindings: unknown[]) {
      const cursor = sql.exec(query, ...bindings);
      cursors.push(cursor);
      return cursor;
    },
  } as SqlStorage;
  const query: TaskListQuery = {
    sub: null,
    status: null,
    model: null,
    createdFrom: null,
    createdTo: null,
    offset: 0,
    limit: 20,
    ...q,
  };
  const page = listTasks(counting, query);
  return { page, rowsRead: cursors.reduce((n, c) => n + c.rowsRead, 0) };
}

describe("task list with 100,000 tasks", () => {
  it("reads about one page of rows per request, whatever the filters", async () => {
    const state = await objectOf(uniqueTenantId());
    const result = await runInDurableObject(state, (_o, s: DurableObjectState) => {
      const sql = s.storage.sql;
      seed(sql);
      const naive = sql.exec("SELECT COUNT(*) AS n FROM tasks WHERE state != 'aborted'");
      const naiveCount = naive.one().n as number;
      return {
        naive: { count: naiveCount, rowsRead: naive.rowsRead },
        first: counted(sql, {}),
        user: counted(sql, { sub: "u7" }),
        status: counted(sql, { status: "pending" }),
        model: counted(sql, { model: FLASH }),
        statusModel: counted(sql, { status: "failed", model: FLASH }),
        all: counted(sql, { sub: "u7", status: "completed", model: "wan2.6-reference-video", limit: 100 }),
        deep: counted(sql, { offset: TASK_LIST_MAX_OFFSET, limit: 100 }),
        hour: counted(sql, { createdFrom: T0 + 50_000_000, createdTo: T0 + 50_000_000 + 3_600_000 }),
        wide: counted(sql, { createdFrom: T0, createdTo: T0 + TASKS * 1000 }),
      };
    });

    // For scale: counting the tenant's tasks reads every one of them.
    expect(result.naive.rowsRead).toBeGreaterThanOrEqual(TASKS);

    const { first } = result;
    expect(first.page.total).toBe(result.naive.count);
    expect(first.page.data).toHaveLength(20);
    expect(first.page.data[0]!.id).toBe(`task-unified-seed-0${TASKS - 1}`);
    expect(first.rowsRead).toBeLessThan(80);

    for (const name of ["user", "status", "model", "statusModel"] as const) {
      const r = result[name];
      expect(r.page.data, name).toHaveLength(20);
      expect(r.rowsRead, name).toBeLessThan(120);
    }
    expect(result.user.page.total).toBe(listed((i) => i % 50 === 7));
    expect(result.user.page.data.every((x) => x.sub === "u7")).toBe(true);
    expect(result.statusModel.page.data.every((x) => x.status === "failed" && x.model === FLASH)).toBe(true);
    expect(result.all.page.data.every((x) => x.sub === "u7" && x.status === "completed")).toBe(true);
    expect(result.all.rowsRead).toBeLessThan(400);

    // Deep pages read what they skip, up to the offset cap (beyond it the API answers 400).
    expect(result.deep.page.data).toHaveLength(100);
    expect(result.deep.rowsRead).toBeLessThan(TASK_LIST_MAX_OFFSET * 1.3);

    // A creation-time range is counted in its index, up to the cap.
    expect(result.hour.page.total).toBe(listed((i) => i >= 50_000 && i < 53_600));
    expect(result.hour.page.totalExact).toBe(true);
    expect(result.hour.rowsRead).toBeLessThan(3_600 + 100);
    expect(result.wide.page).toMatchObject({ total: TASK_LIST_COUNT_CAP, totalExact: false });
    expect(result.wide.rowsRead).toBeLessThan(TASK_LIST_COUNT_CAP * 1.3);
  });
});
