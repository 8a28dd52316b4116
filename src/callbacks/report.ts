// The callback ingress's part inside the tenant's Durable Object, in one RPC (src/callbacks/ingress.ts): the
// task's record decides what a report can mean; only a live task with an upstream id is confirmed with the
// upstream (asked from here, between the read and the write, as the create RPC does) and observed. So a
// report costs the Worker one object call, and a repeated report of an ended task no upstream query.
import { CALLBACK_CONFIRM_TIMEOUT_MS } from "../config/constants";
import type { Config } from "../config/env";
import { ApiError, type ErrorData, errorData } from "../http/errors";
import type { Logger } from "../http/log";
import type { TaskRecord } from "../tasks/table";
import { getUpstreamTask } from "../upstream/client";
import type { UpstreamTask } from "../upstream/schema";

export type CallbackReport =
  /** No such task, or one that never reached the upstream: the uniform 404. */
  | { kind: "unknown" }
  /** Already ended (an upstream retry, or a poll or sweep got there first): nothing to do. */
  | { kind: "duplicate" }
  /** The upstream called back before its create answer was attached: it should retry. */
  | { kind: "creating" }
  /** The upstream could not confirm the task's state. */
  | { kind: "failed"; error: ErrorData }
  /** Confirmed and recorded: the record after it, whether this report ended the task, what the upstream said. */
  | { kind: "observed"; record: TaskRecord | null; firstEnd: boolean; status: UpstreamTask["status"] };

export interface ReportDeps {
  config: Config;
  log: Logger;
  getTask(taskId: string): TaskRecord | null;
  observe(
    taskId: string,
    upstream: UpstreamTask,
    now: number,
  ): Promise<{ record: TaskRecord; firstEnd: boolean } | null>;
}

export async function reportInObject(
  d: ReportDeps,
  taskId: string,
  requestId: string,
): Promise<CallbackReport> {
  const record = d.getTask(taskId);
  if (!record || record.state === "aborted") return { kind: "unknown" };
  if (record.endedAt !== null) return { kind: "duplicate" };
  if (!record.upstreamId) return { kind: "creating" };
  let upstream: UpstreamTask;
  try {
    upstream = await getUpstreamTask(
      {
        config: {
          ...d.config,
          upstreamTimeoutMs: Math.min(d.config.upstreamTimeoutMs, CALLBACK_CONFIRM_TIMEOUT_MS),
        },
        log: d.log,
        requestId,
      },
      record.upstreamId,
    );
  } catch (err) {
    if (err instanceof ApiError) return { kind: "failed", error: errorData(err) };
    throw err;
  }
  const observed = await d.observe(record.id, upstream, Date.now());
  return {
    kind: "observed",
    record: observed?.record ?? null,
    firstEnd: observed?.firstEnd ?? false,
    status: upstream.status,
  };
}
