// POST /v1/tasks/batch: many of the caller's tasks at once, in EvoLink's shape (its CLI asks for the tasks it
// follows this way): `{ task_ids: [...] }`, at most TASK_BATCH_MAX, answered `{ data: [task, …] }` in the order
// asked. Each id is read exactly as GET /v1/tasks/{id} reads it (./routes.ts `readTask`: opened without
// storage, the poll cache, no object call while it runs); an id GET would answer 404 for (unknown, foreign,
// malformed, of the tenant's old incarnation, deleted) is left out silently, as EvoLink does, and a repeated id
// is answered once. An upstream failure fails the whole batch with its error, as it fails a GET: leaving the
// task out would tell the caller it does not exist (docs/quotas.md, "Read limits", for its cost).
import { Hono } from "hono";
import type { TenantEnv } from "../auth/principal";
import { MAX_BODY_BYTES, TASK_BATCH_CONCURRENCY, TASK_BATCH_MAX } from "../config/constants";
import * as z from "../config/zod";
import { readJsonBody } from "../http/body";
import { takeReads } from "../http/read-limit";
import { parseWith } from "../http/validate";
import { mapBounded } from "../util/bounded";
import { openVisible, readTask } from "./routes";

/** The body: task ids as GET /v1/tasks/{id} takes them; a string that is no id of the caller's is left out. */
export const TaskBatchSchema = z.strictObject({
  task_ids: z.array(z.string()).check(z.maxLength(TASK_BATCH_MAX, `at most ${TASK_BATCH_MAX} task ids`)),
});

export const taskBatchRoutes = new Hono<TenantEnv>();

taskBatchRoutes.post("/tasks/batch", async (c) => {
  const { task_ids } = parseWith(TaskBatchSchema, await readJsonBody(c.req.raw, MAX_BODY_BYTES));
  const ids = [...new Set(task_ids)];
  // Each task is a read, counted before any is opened (a request with none still counts once).
  await takeReads(c.env, c.get("principal"), c.get("log"), Math.max(1, ids.length));
  const opened = await Promise.all(ids.map(async (id) => ({ id, claims: await openVisible(c, id) })));
  const visible = opened.flatMap(({ id, claims }) => (claims ? [{ id, claims }] : []));
  const views = await mapBounded(visible, TASK_BATCH_CONCURRENCY, ({ id, claims }) =>
    readTask(c, id, claims),
  );
  return c.json({ data: views.filter((view) => view !== null) });
});
