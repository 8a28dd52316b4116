// The reconciliation sweeper, so no concurrency slot and no credit stays held because a callback never
// came. A Cron Trigger (`scheduled` in src/index.ts) visits every tenant's Durable Object; each asks the
// upstream about its tasks that have been silent for SWEEP_MIN_AGE_SECONDS and feeds the answers into the
// same `observe()` path as polls and callbacks, aborts tasks orphaned in `creating`, and tidies up.
import type { Config } from "../config/env";
import {
  STUCK_CREATING_MARGIN_MS,
  SWEEP_BATCH,
  SWEEP_PARALLEL_TENANTS,
  TASK_RETENTION_MS,
} from "../config/constants";
import type { Env } from "../env";
import { ApiError } from "../http/errors";
import type { Logger } from "../http/log";
import { tenantObject } from "../state/client";
import { getTenant, listTenants } from "../tenants/store";
import { getUpstreamTask } from "../upstream/client";
import type { UpstreamTask } from "../upstream/schema";
import type { TaskRecord, TaskStore } from "./store";

export interface SweepReport {
  /** Tasks orphaned in `creating` and aborted (their reservation released). */
  aborted: number;
  /** Upstream queries made, and how many of them reported the task's end. */
  queried: number;
  ended: number;
  /** Tasks the upstream no longer knows (404): ended as failed, nothing charged. */
  lost: number;
  /** Queries that failed; those tasks are asked again next run. */
  failed: number;
  /** Expired Idempotency-Key records deleted. */
  purged: number;
  /** Ended tasks older than TASK_RETENTION_MS deleted. */
  expired: number;
}

/** What one tenant's sweep needs from its Durable Object. */
export interface SweepDeps {
  tasks: TaskStore;
  config: Config;
  log: Logger;
  observe(taskId: string, upstream: UpstreamTask, now: number): Promise<{ firstEnd: boolean } | null>;
  abort(taskId: string, now: number): Promise<void>;
  purgeIdempotency(now: number, limit: number): number;
  syncKv(now: number): Promise<unknown>;
}

/** The end the gateway records for a task the upstream answers 404 for. */
export function lostTask(upstreamId: string): UpstreamTask {
  return {
    id: upstreamId,
    status: "failed",
    error: { code: "task_lost", message: "The video service no longer knows this task", type: "task_error" },
  };
}

async function reconcile(d: SweepDeps, task: TaskRecord, now: number, report: SweepReport): Promise<void> {
  let upstream: UpstreamTask;
  try {
    upstream = await getUpstreamTask(
      { config: d.config, log: d.log, requestId: `sweep-${now}` },
      task.upstreamId!,
    );
  } catch (err) {
    if (!(err instanceof ApiError && err.code === "task_not_found")) {
      report.failed++;
      d.log.warn("sweep_query_failed", { task_id: task.id, error: String(err) });
      return;
    }
    report.lost++;
    upstream = lostTask(task.upstreamId!);
  }
  report.queried++;
  const result = await d.observe(task.id, upstream, now);
  if (result?.firstEnd) report.ended++;
}

/** One tenant's sweep at `now` (the cron's scheduled time). */
export async function sweepTenant(d: SweepDeps, now: number): Promise<SweepReport> {
  const report: SweepReport = { aborted: 0, queried: 0, ended: 0, lost: 0, failed: 0, purged: 0, expired: 0 };
  const orphanedBefore = now - d.config.upstreamTimeoutMs - STUCK_CREATING_MARGIN_MS;
  for (const task of d.tasks.stuckCreating(orphanedBefore, SWEEP_BATCH)) {
    await d.abort(task.id, now);
    report.aborted++;
  }
  const silentSince = now - d.config.sweepMinAgeSeconds * 1000;
  const silent = d.tasks.silentInFlight(silentSince, silentSince, SWEEP_BATCH);
  await Promise.all(silent.map((task) => reconcile(d, task, now, report)));
  report.purged = d.purgeIdempotency(now, SWEEP_BATCH * 40);
  report.expired = d.tasks.purgeEnded(now - TASK_RETENTION_MS, SWEEP_BATCH * 40);
  await d.syncKv(now);
  return report;
}

/** The cron: every tenant (KV `tenant:` prefix, paginated), a few at a time. */
const ZERO: SweepReport = { aborted: 0, queried: 0, ended: 0, lost: 0, failed: 0, purged: 0, expired: 0 };

export async function sweepTenants(env: Env, now: number, log: Logger): Promise<SweepReport> {
  const total: SweepReport = { aborted: 0, queried: 0, ended: 0, lost: 0, failed: 0, purged: 0, expired: 0 };
  let cursor: string | undefined;
  let tenants = 0;
  do {
    const page = await listTenants(env, cursor, 1000);
    for (let i = 0; i < page.tenants.length; i += SWEEP_PARALLEL_TENANTS) {
      const group = page.tenants.slice(i, i + SWEEP_PARALLEL_TENANTS);
      const results = await Promise.allSettled(
        group.map(async (t) => {
          const tenant = await getTenant(env, t.id);
          return tenant ? tenantObject(env, tenant).sweep(now) : ZERO;
        }),
      );
      results.forEach((r, j) => {
        if (r.status === "rejected") {
          log.error("sweep_tenant_failed", { tenant_id: group[j]!.id, error: String(r.reason) });
          return;
        }
        for (const k of Object.keys(total) as (keyof SweepReport)[]) total[k] += r.value[k];
      });
    }
    tenants += page.tenants.length;
    cursor = page.cursor ?? undefined;
  } while (cursor);
  log.info("sweep_done", { tenants, ...total });
  return total;
}
