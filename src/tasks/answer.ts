// An ended task's answer, built in one place for everyone who shows it: GET /v1/tasks/{id} (./routes.ts), the
// final event of the task's event stream (src/events), and the callback ingress, which puts it in the
// location's cache (src/callbacks/ingress.ts) so the streams there see the end without asking anyone. All of
// them present the object's record of the end through `finalView`, so a stream's final event is exactly the
// body GET answers.
import type { Context } from "hono";
import type { TenantEnv } from "../auth/principal";
import type { Config } from "../config/env";
import type { Env } from "../env";
import type { Logger } from "../http/log";
import { type TenantRef, tenantObject } from "../state/client";
import { type UpstreamTask, UpstreamTaskSchema } from "../upstream/schema";
import { presentResults } from "../results/url";
import { cacheFinal } from "./poll-cache";
import { presentTask, type TenantTaskView } from "./present";
import type { TaskRecord } from "./table";

/** Who an ended task is shown for: the request's settings and log, and the tenant that owns the task. */
export interface AnswerScope {
  env: Env;
  config: Config;
  log: Logger;
  tenant: TenantRef;
}

/** The scope of a tenant's request (a route behind the tenant's token). */
export function answerScope(c: Context<TenantEnv>): AnswerScope {
  return { env: c.env, config: c.get("config"), log: c.get("log"), tenant: c.get("principal").tenant };
}

export interface Final {
  view: TenantTaskView;
  endedAt: number;
}

/**
 * An ended task's view from its record: the snapshot of its end, not the upstream, with kept results as the
 * gateway's signed URLs (src/results). Null for a task that has not ended, was deleted, or whose record cannot
 * show it.
 */
export async function finalView(
  scope: AnswerScope,
  id: string,
  record: TaskRecord | null,
): Promise<Final | null> {
  if (!record?.snapshot || record.endedAt === null || record.publicId !== id) return null;
  const parsed = UpstreamTaskSchema.safeParse(parseJson(record.snapshot));
  if (!parsed.success) {
    scope.log.error("task_snapshot_invalid", { task_id: id, issues: parsed.error.issues.length });
    return null;
  }
  const view = presentTask(id, parsed.data, { model: record.model, createdMs: record.createdAt });
  if (view.results) {
    const tenant = { id: scope.tenant.id, incarnation: scope.tenant.incarnation };
    view.results = await presentResults(scope.config, tenant, record, view.results);
  }
  return { view, endedAt: record.endedAt };
}

/** Keeps the final view in the location's cache, where GET and the event streams find it first. */
export function keepFinal(scope: AnswerScope, id: string, final: Final): Promise<void> {
  return cacheFinal(scope.config, id, final.view, final.endedAt, Date.now());
}

/**
 * Reports an end the upstream has answered to the task's object — which settles, writes the outbox and
 * records the end exactly once, whoever reports it first — and keeps the record's final view in the
 * location's cache. Returns that view (null when the object does not know the task, or its record cannot
 * show it) and the record (its `state` is `deleted` for a task the tenant deleted).
 */
export async function reportEnd(
  scope: AnswerScope,
  id: string,
  row: string,
  upstream: UpstreamTask,
  now: number,
): Promise<{ final: Final | null; record: TaskRecord | null }> {
  const result = await tenantObject(scope.env, scope.tenant).observe(row, upstream, now);
  const record = result?.record ?? null;
  const final = await finalView(scope, id, record);
  if (final) await keepFinal(scope, id, final);
  return { final, record };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
