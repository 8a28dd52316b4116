// One Durable Object per tenant (SQLite-backed) holding the tenant's tasks. A task is visible the moment
// its creation returns, from any location, because every read and write of a tenant's tasks goes through
// this single object — no dependence on KV propagation. Quota counters live here too (quota/), so
// admission and task creation are one atomic step.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";
import { TERMINAL_STATUSES, type TaskStatus, type UpstreamTask } from "../upstream/schema";
import { migrate } from "./migrations";

export type TaskState = "creating" | "aborted" | TaskStatus;

export interface TaskRecord {
  id: string;
  sub: string | null;
  upstreamId: string | null;
  state: TaskState;
  model: string;
  createdAt: number;
  updatedAt: number;
  endedAt: number | null;
  /** The tenant's own callback_url, kept by the gateway (the upstream gets the gateway's). */
  callbackUrl: string | null;
  estimate: number;
  reserved: number;
  charged: number | null;
  /** The last upstream task object seen, as JSON, for serving ended tasks without asking upstream. */
  snapshot: string | null;
}

export interface NewTask {
  id: string;
  sub: string | null;
  model: string;
  createdAt: number;
  callbackUrl: string | null;
  estimate: number;
}

/** The result of recording an upstream state: `firstEnd` is true exactly once per task. */
export interface ObserveResult {
  record: TaskRecord;
  firstEnd: boolean;
}

type Row = Record<string, SqlStorageValue>;

function toRecord(r: Row): TaskRecord {
  return {
    id: r.id as string,
    sub: (r.sub as string | null) ?? null,
    upstreamId: (r.upstream_id as string | null) ?? null,
    state: r.state as TaskState,
    model: r.model as string,
    createdAt: r.created_at as number,
    updatedAt: r.updated_at as number,
    endedAt: (r.ended_at as number | null) ?? null,
    callbackUrl: (r.callback_url as string | null) ?? null,
    estimate: r.estimate as number,
    reserved: r.reserved as number,
    charged: (r.charged as number | null) ?? null,
    snapshot: (r.snapshot as string | null) ?? null,
  };
}

export class TenantState extends DurableObject<Env> {
  private readonly sql: SqlStorage;

  constructor(ctx: DurableObjectState, env: Env) {
    super(ctx, env);
    this.sql = ctx.storage.sql;
    migrate(this.sql);
  }

  /** Records a task before the upstream is called, so an early callback always finds it. */
  async beginTask(task: NewTask): Promise<void> {
    this.sql.exec(
      `INSERT INTO tasks (id, sub, state, model, created_at, updated_at, callback_url, estimate, reserved)
       VALUES (?, ?, 'creating', ?, ?, ?, ?, ?, ?)`,
      task.id,
      task.sub,
      task.model,
      task.createdAt,
      task.createdAt,
      task.callbackUrl,
      task.estimate,
      task.estimate,
    );
  }

  /** The upstream accepted the task: bind its id and first state. */
  async attachUpstream(taskId: string, upstream: UpstreamTask, now: number): Promise<TaskRecord | null> {
    this.sql.exec(
      `UPDATE tasks SET upstream_id = ?, state = ?, updated_at = ?, snapshot = ? WHERE id = ? AND state = 'creating'`,
      upstream.id,
      TERMINAL_STATUSES.has(upstream.status) ? "processing" : upstream.status,
      now,
      JSON.stringify(upstream),
      taskId,
    );
    return this.getTask(taskId);
  }

  /** The upstream call failed before a task id came back: the task never existed for the tenant. */
  async abortTask(taskId: string, now: number): Promise<void> {
    this.sql.exec(
      `UPDATE tasks SET state = 'aborted', updated_at = ?, ended_at = ?, reserved = 0, charged = 0
       WHERE id = ? AND state = 'creating'`,
      now,
      now,
      taskId,
    );
  }

  async getTask(taskId: string): Promise<TaskRecord | null> {
    const row = this.sql.exec<Row>("SELECT * FROM tasks WHERE id = ?", taskId).toArray()[0];
    return row ? toRecord(row) : null;
  }

  /**
   * Records what the upstream says about a task (poll, callback or sweep). The first report of an end
   * state ends the task exactly once; later reports of any kind change nothing.
   */
  async observe(taskId: string, upstream: UpstreamTask, now: number): Promise<ObserveResult | null> {
    const current = await this.getTask(taskId);
    if (!current || current.upstreamId !== upstream.id) return null;
    if (current.endedAt !== null) return { record: current, firstEnd: false };
    const ended = TERMINAL_STATUSES.has(upstream.status);
    this.sql.exec(
      `UPDATE tasks SET state = ?, updated_at = ?, ended_at = ?, snapshot = ? WHERE id = ? AND ended_at IS NULL`,
      upstream.status,
      now,
      ended ? now : null,
      JSON.stringify(upstream),
      taskId,
    );
    return { record: (await this.getTask(taskId))!, firstEnd: ended };
  }
}

export function tenantState(env: Env, tenantId: string): DurableObjectStub<TenantState> {
  return env.TENANT_STATE.get(env.TENANT_STATE.idFromName(tenantId));
}
