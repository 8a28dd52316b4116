// One admission, run synchronously inside the tenant's Durable Object (no await between check and write):
// the Idempotency-Key is looked up, the tenant's and the user's limits are checked against the counters,
// and the task row, its reservation and the key's claim are written — or nothing is written at all.
// Because the object runs one such step at a time, N concurrent requests against a limit of L admit L.
import type { NewTask, TaskTable } from "../tasks/table";
import type { QuotaLimits } from "../tenants/schema";
import type { IdempotencyClaim, IdempotencyTable, StoredResponse } from "../idempotency/keys";
import type { QuotaCounters } from "./counters";
import { admitted, decide, type Refusal, type ScopeInput, toUnits } from "./arithmetic";

export interface AdmitRequest {
  /** The task to record; its id is used unless a failed attempt of the same idempotent request is retried. */
  task: NewTask;
  /** The tenant's `quotas` and `user_quotas` (the latter apply only when the task has a `sub`). */
  limits: { tenant: QuotaLimits; user: QuotaLimits };
  idempotency: IdempotencyClaim | null;
}

export type AdmitResult =
  | {
      kind: "admitted";
      taskId: string;
      /** Creation time of the idempotency record (derives the upstream's key), when a key was sent. */
      idempotencyEpoch: number | null;
      /** The limited scopes as they are after this admission (for the RateLimit fields). */
      scopes: ScopeInput[];
    }
  | { kind: "refused"; refusal: Refusal; scopes: ScopeInput[] }
  | { kind: "replay"; response: StoredResponse }
  | { kind: "in_progress" }
  | { kind: "conflict" };

export interface AdmissionTables {
  tasks: TaskTable;
  counters: QuotaCounters;
  idempotency: IdempotencyTable;
  /**
   * Whether the attempt that admitted `taskId` is still running in this object instance. A key held by an
   * attempt that is not (it died with an earlier instance: a crash, a restart) is taken over at once, not
   * after the sweeper's abort. Absent: every attempt counts as running.
   */
  running?: (taskId: string) => boolean;
}

const limited = (l: QuotaLimits) =>
  l.requests_per_minute !== undefined ||
  l.max_concurrent_tasks !== undefined ||
  l.monthly_credits !== undefined;

/** The scopes that have a limit, with their state at `now`. */
export function limitedScopes(
  counters: QuotaCounters,
  limits: AdmitRequest["limits"],
  sub: string | null,
  now: number,
): ScopeInput[] {
  const scopes: ScopeInput[] = [];
  if (limited(limits.tenant))
    scopes.push({
      scope: "tenant",
      limits: limits.tenant,
      state: counters.admissionState("tenant", null, now, limits.tenant),
    });
  if (sub !== null && limited(limits.user))
    scopes.push({
      scope: "user",
      limits: limits.user,
      state: counters.admissionState("user", sub, now, limits.user),
    });
  return scopes;
}

/** A new request as the limits see it: who asks, for how many credits, when. */
export interface AdmissionCheck {
  limits: AdmitRequest["limits"];
  sub: string | null;
  /** Credits the request would reserve (its estimate). */
  estimate: number;
  now: number;
}

/**
 * The one admission decision, over the counters as they are: the first limit the request would break
 * (with the scopes it was judged on), or none. Reads only; `admit` writes on its verdict, and the estimate
 * endpoint (`QuotaBook.check`) reports it.
 */
export function judge(
  counters: QuotaCounters,
  req: AdmissionCheck,
): { refusal: Refusal | null; scopes: ScopeInput[] } {
  const scopes = limitedScopes(counters, req.limits, req.sub, req.now);
  return { refusal: decide(scopes, toUnits(req.estimate), req.now), scopes };
}

export function admit(t: AdmissionTables, req: AdmitRequest): AdmitResult {
  const now = req.task.createdAt;
  const sub = req.task.sub;
  let retryOf: string | null = null;
  if (req.idempotency) {
    const seen = t.idempotency.lookup(sub, req.idempotency, now);
    if (seen.kind === "replay") return { kind: "replay", response: seen.response };
    if (seen.kind === "in_progress" && t.running && !t.running(seen.taskId)) {
      orphaned(t, seen.taskId, now);
      retryOf = seen.taskId;
    } else if (seen.kind === "conflict" || seen.kind === "in_progress") return { kind: seen.kind };
    if (seen.kind === "retry") retryOf = seen.taskId;
  }

  const estimateUnits = toUnits(req.task.estimate);
  const { refusal, scopes } = judge(t.counters, {
    limits: req.limits,
    sub,
    estimate: req.task.estimate,
    now,
  });
  if (refusal) return { kind: "refused", refusal, scopes };

  let task = req.task;
  if (retryOf !== null && !t.tasks.revive({ ...task, id: retryOf })) retryOf = null;
  if (retryOf !== null) task = { ...task, id: retryOf };
  else t.tasks.insert(task);
  t.counters.reserve(task, task.reserved, req.limits);

  let epoch: number | null = null;
  if (req.idempotency)
    epoch =
      retryOf !== null
        ? t.idempotency.reclaim(sub, req.idempotency.key)
        : t.idempotency.claim(sub, req.idempotency, task.id, now);
  return {
    kind: "admitted",
    taskId: task.id,
    idempotencyEpoch: epoch,
    scopes: scopes.map((s) => ({ ...s, state: admitted(s.state, estimateUnits, now) })),
  };
}

/**
 * The attempt that holds a key died with an earlier instance of the object: its task is aborted (slot and
 * reservation released) and the key marked failed, as the sweeper would do later, so this request retries
 * it — with the same task row and upstream Idempotency-Key, so an upstream task the dead attempt did
 * create is answered again, never created twice.
 */
function orphaned(t: AdmissionTables, taskId: string, now: number): void {
  const record = t.tasks.get(taskId);
  if (record && t.tasks.abort(taskId, now)) t.counters.release(record, record.reserved);
  t.idempotency.fail(taskId, null);
}
