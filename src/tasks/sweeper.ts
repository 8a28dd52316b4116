// The reconciliation sweeper, so no concurrency slot and no credit stays held because a callback never
// came. It is one step of each tenant object's own alarm (no Cron, no fan-out over tenants): it asks the
// upstream about the object's tasks silent for SWEEP_MIN_AGE_SECONDS (feeding the answers into the same
// `observe()` path as polls and callbacks), aborts tasks orphaned in `creating`, purges what has expired,
// and returns its next deadline — read from indexes, so an object with no such task arms nothing.
import type { Config } from "../config/env";
import {
  STUCK_CREATING_MARGIN_MS,
  SWEEP_BATCH,
  SWEEP_RETRY_MS,
  TASK_RETENTION_MS,
} from "../config/constants";
import { ApiError } from "../http/errors";
import type { Logger } from "../http/log";
import { getUpstreamTask } from "../upstream/client";
import type { UpstreamTask } from "../upstream/schema";
import type { TaskRecord, TaskTable } from "./table";

export interface SweepReport {
  /** Tasks orphaned in `creating` and aborted (their reservation released). */
  aborted: number;
  /** Upstream queries made, and how many of them reported the task's end. */
  queried: number;
  ended: number;
  /** Tasks the upstream no longer knows (404): ended as failed, nothing charged. */
  lost: number;
  /** Queries that failed; those tasks are asked again after SWEEP_RETRY_MS. */
  failed: number;
  /** Expired Idempotency-Key records deleted. */
  purged: number;
  /** Ended tasks older than TASK_RETENTION_MS deleted. */
  expired: number;
}

/** What the sweep needs from its Durable Object. */
export interface SweepDeps {
  tasks: TaskTable;
  config: Config;
  log: Logger;
  observe(taskId: string, upstream: UpstreamTask, now: number): Promise<{ firstEnd: boolean } | null>;
  abort(taskId: string, now: number): Promise<void>;
  purgeIdempotency(now: number, limit: number): number;
  /** When the oldest Idempotency-Key record expires, or null when there is none. */
  nextIdempotencyExpiry(): number | null;
}

/** How long a task may stay in `creating` before the sweeper takes it for orphaned. */
export function creatingAbortAfterMs(config: Config): number {
  return config.upstreamTimeoutMs + STUCK_CREATING_MARGIN_MS;
}

/** When a task created at `createdAt` (still `creating`) is due to be aborted. */
export function creatingDeadline(config: Config, createdAt: number): number {
  return createdAt + creatingAbortAfterMs(config);
}

/** When a task in flight last heard of at `updatedAt` is due to be asked about. */
export function silentDeadline(config: Config, updatedAt: number): number {
  return updatedAt + config.sweepMinAgeSeconds * 1000;
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

/** The earliest of the object's sweep deadlines (each one index seek), or null when it has none. */
export function nextSweepDeadline(d: SweepDeps): number | null {
  const creating = d.tasks.oldestCreating();
  const silent = d.tasks.oldestSilent();
  const purgeable = d.tasks.oldestPurgeable();
  const deadlines = [
    creating === null ? null : creatingDeadline(d.config, creating),
    silent === null ? null : silentDeadline(d.config, silent),
    purgeable === null ? null : purgeable + TASK_RETENTION_MS,
    d.nextIdempotencyExpiry(),
  ].filter((t): t is number => t !== null);
  return deadlines.length ? Math.min(...deadlines) : null;
}

/** Does the sweep work due at `now` (a batch of each kind). */
export async function sweepDue(d: SweepDeps, now: number): Promise<SweepReport> {
  const report: SweepReport = { aborted: 0, queried: 0, ended: 0, lost: 0, failed: 0, purged: 0, expired: 0 };
  // Each bound is inclusive (+1 on the stores' strict `<`), so a task is due exactly at its deadline.
  for (const task of d.tasks.stuckCreating(now - creatingAbortAfterMs(d.config) + 1, SWEEP_BATCH)) {
    await d.abort(task.id, now);
    report.aborted++;
  }
  const silentSince = now - d.config.sweepMinAgeSeconds * 1000 + 1;
  const silent = d.tasks.silentInFlight(silentSince, silentSince, SWEEP_BATCH);
  await Promise.all(silent.map((task) => reconcile(d, task, now, report)));
  report.purged = d.purgeIdempotency(now, SWEEP_BATCH * 40);
  report.expired = d.tasks.purgeEnded(now - TASK_RETENTION_MS + 1, SWEEP_BATCH * 40);
  return report;
}

/**
 * The alarm step: the due work, then the next deadline. Work still due means a full batch (run again at
 * once) or failed queries (again after SWEEP_RETRY_MS, so a down upstream is not asked in a tight loop).
 */
export async function sweepStep(d: SweepDeps, now: number): Promise<number | null> {
  const report = await sweepDue(d, now);
  const done = report.aborted + report.queried + report.purged + report.expired;
  if (done > 0 || report.failed > 0) d.log.info("sweep_done", { ...report });
  const next = nextSweepDeadline(d);
  if (next === null || next > now) return next;
  return report.failed > 0 || done === 0 ? now + SWEEP_RETRY_MS : now;
}
