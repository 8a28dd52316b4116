// POST /v1/tasks/batch through the real app: many of the caller's tasks in EvoLink's shape, each read exactly as
// GET /v1/tasks/{id} reads it (the answers are compared with GET's), in the order asked, repeated ids once,
// every id GET would answer 404 for left out; at the edge (no object call for live tasks, an ended one from its
// record), at most TASK_BATCH_CONCURRENCY upstream queries at once, one read counted per id.
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import {
  READ_LIMITS,
  TASK_BATCH_CONCURRENCY,
  TASK_BATCH_MAX,
  TASK_RECORD_FIRST_AFTER_MS,
} from "../../src/config/constants";
import type { Env } from "../../src/env";
import { createTenant, type TenantFixture } from "../fixtures/tenants";
import {
  GATEWAY,
  UPSTREAM_HOST,
  VALID_BODY,
  admin,
  bearer,
  gw,
  startSimulator,
  withJson,
} from "../helpers/gateway";
import { checkAgainstOpenApi } from "../helpers/openapi";
import { callsTo, route } from "../helpers/outbound";
import { countingEnv, type Tally } from "../perf/counting";
import { completed, tenantWith } from "../results/helpers";

type View = { id: string; status: string; results?: string[] };

async function createTask(t: TenantFixture, sub: string | null = "user-1"): Promise<string> {
  const res = await gw("/v1/videos/generations", withJson(await t.token({ sub }), VALID_BODY));
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

async function batch(t: TenantFixture, ids: unknown, sub: string | null = "user-1") {
  return gw("/v1/tasks/batch", withJson(await t.token({ sub }), { task_ids: ids }));
}

async function batchData(t: TenantFixture, ids: string[], sub: string | null = "user-1"): Promise<View[]> {
  const res = await batch(t, ids, sub);
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: View[] }).data;
}

async function getTask(t: TenantFixture, id: string, sub: string | null = "user-1"): Promise<View> {
  const res = await gw(`/v1/tasks/${id}`, bearer(await t.token({ sub })));
  expect(res.status).toBe(200);
  return (await res.json()) as View;
}

/** One batch through the app over `base` (counted), with its tally of storage and limiter calls. */
async function sendCounted(
  base: Partial<Record<keyof Env, unknown>>,
  token: string,
  ids: unknown[],
): Promise<{ status: number; body: any; ops: Tally }> {
  const counted = countingEnv({ ...(env as Env), ...base } as Env);
  const ctx = createExecutionContext();
  const url = `${GATEWAY}/v1/tasks/batch`;
  const res = await app.fetch(new Request(url, withJson(token, { task_ids: ids })), counted.env, ctx);
  await waitOnExecutionContext(ctx);
  await checkAgainstOpenApi("POST", url, res);
  return { status: res.status, body: await res.json(), ops: counted.take() };
}

/** A Rate Limiting binding as strict as the local one (test/http/read-limit.test.ts): counted per key up to `max`. */
class StrictLimiter implements RateLimit {
  readonly keys: string[] = [];
  private readonly counts = new Map<string, number>();
  constructor(private readonly max: number) {}
  async limit(options: RateLimitOptions): Promise<RateLimitOutcome> {
    this.keys.push(options.key);
    const used = this.counts.get(options.key) ?? 0;
    if (used >= this.max) return { success: false };
    this.counts.set(options.key, used + 1);
    return { success: true };
  }
}

const upstreamQueries = () => callsTo(UPSTREAM_HOST).filter((c) => c.method === "GET").length;
/** The tally's calls to tenant objects. */
const objectCalls = (ops: Tally) =>
  Object.fromEntries(Object.entries(ops).filter(([op]) => op.startsWith("TENANT_STATE.")));
const reads = (n: number) => ({ "READ_LIMIT_USER.limit": n, "READ_LIMIT_TENANT.limit": n });

afterEach(() => vi.useRealTimers());

describe("POST /v1/tasks/batch", () => {
  it("answers the caller's tasks in the order asked, each as GET does, a repeated id once", async () => {
    const { clock } = startSimulator();
    const t = await createTenant();
    const [a, b, c] = [await createTask(t), await createTask(t), await createTask(t)];
    await clock.advance(2_000);
    const data = await batchData(t, [c, a, c, b, a]);
    expect(data.map((v) => v.id)).toEqual([c, a, b]);
    expect(data).toEqual([await getTask(t, c), await getTask(t, a), await getTask(t, b)]);
    expect(data.map((v) => v.status)).toEqual(["processing", "processing", "processing"]);
  });

  it("leaves out unknown, malformed, foreign and other users' ids silently; a token without sub sees its tenant's", async () => {
    startSimulator();
    const t = await createTenant();
    const other = await createTenant();
    const mine = await createTask(t, "user-1");
    const theirs = await createTask(t, "user-2");
    const foreign = await createTask(other, "user-1");
    const forged = `${mine.slice(0, -4)}${mine.endsWith("aaaa") ? "bbbb" : "aaaa"}`;
    const asked = [foreign, "", "nope", "task-unified-", forged, theirs, mine, "x".repeat(600)];
    const before = upstreamQueries();
    expect((await batchData(t, asked)).map((v) => v.id)).toEqual([mine]);
    expect(upstreamQueries()).toBe(before + 1); // only the caller's own task was asked about
    expect((await batchData(t, asked, null)).map((v) => v.id)).toEqual([theirs, mine]);
    expect(await batchData(t, [])).toEqual([]);
  });

  it("leaves out the ids of the tenant's old incarnation", async () => {
    startSimulator();
    const t = await createTenant();
    const old = await createTask(t);
    expect((await admin(`/admin/tenants/${t.id}?force=true`, { method: "DELETE" })).status).toBe(204);
    expect((await admin(`/admin/tenants/${t.id}`, { method: "PUT", json: t.input })).status).toBe(201);
    const fresh = await createTask(t);
    expect((await batchData(t, [old, fresh])).map((v) => v.id)).toEqual([fresh]);
  });

  it("shows an ended task as GET does, its kept results as the gateway's URLs; a deleted one is left out", async () => {
    const t = await tenantWith();
    const done = await completed(t);
    const live = await createTask(t);
    expect(done.results[0]!.startsWith(`${GATEWAY}/results/`)).toBe(true);
    const data = await batchData(t, [done.id, live]);
    expect(data.map((v) => v.status)).toEqual(["completed", "pending"]);
    expect(data[0]).toEqual(await getTask(t, done.id));
    expect(data[0]!.results).toEqual(done.results);

    const del = await gw(`/v1/tasks/${done.id}`, { method: "DELETE", ...bearer(await t.token()) });
    expect(del.status).toBe(200);
    expect((await batchData(t, [done.id, live])).map((v) => v.id)).toEqual([live]);
  });

  it("reads live tasks at the edge (no object call) and an old ended one from its record, not the upstream", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true }); // only reads tell the gateway about the end
    const t = await createTenant();
    const ended = await createTask(t);
    await clock.advance(10_000); // the first task completes upstream
    const live = [await createTask(t), await createTask(t)];
    const token = await t.token();

    const before = upstreamQueries();
    const first = await sendCounted({}, token, [...live, "unknown"]);
    expect(first.status).toBe(200);
    expect(first.ops).toEqual(reads(3));
    expect(upstreamQueries()).toBe(before + 2);

    // The read that first sees the end tells the object, once, as GET's does.
    const ending = await sendCounted({}, token, [ended]);
    expect(ending.body.data[0].status).toBe("completed");
    expect(ending.ops).toEqual({ ...reads(1), "TENANT_STATE.observe": 1 });

    // Another location (no cache entry), the task old: its record answers; the upstream would fail.
    expect(await caches.default.delete(`${GATEWAY}/__poll-cache/tasks/${ended}`)).toBe(true);
    const lateToken = await t.token(); // verified on the real clock; the task's age is read on the fake one
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + TASK_RECORD_FIRST_AFTER_MS });
    sim.inject({ query: { status: 500, count: 100 } });
    const queried = upstreamQueries();
    const late = await sendCounted({}, lateToken, [ended]);
    expect(late.status).toBe(200);
    expect(late.body.data).toEqual(ending.body.data);
    // (The tenant record may be read again: ten minutes have passed on the fake clock.)
    expect(late.ops).toMatchObject(reads(1));
    expect(objectCalls(late.ops)).toEqual({ "TENANT_STATE.getTask": 1 });
    expect(upstreamQueries()).toBe(queried);
  });

  it(`asks the upstream about at most ${TASK_BATCH_CONCURRENCY} tasks at once`, async () => {
    const { sim } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await createTenant();
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) ids.push(await createTask(t));
    let inFlight = 0;
    let most = 0;
    route(UPSTREAM_HOST, async (req) => {
      if (req.method !== "GET") return sim.fetch(req);
      most = Math.max(most, ++inFlight);
      try {
        await new Promise((resolve) => setTimeout(resolve, 20));
        return await sim.fetch(req);
      } finally {
        inFlight--;
      }
    });
    const before = upstreamQueries();
    const data = await batchData(t, ids);
    expect(data.map((v) => v.id)).toEqual(ids);
    expect(upstreamQueries()).toBe(before + 20);
    expect(most).toBe(TASK_BATCH_CONCURRENCY);
  });

  it("fails the whole batch with the upstream's error when one task cannot be asked", async () => {
    const { sim } = startSimulator();
    const t = await createTenant();
    const ids = [await createTask(t), await createTask(t)];
    sim.inject({ query: { status: 429, count: 1, retryAfterSeconds: 7 } });
    const res = await batch(t, ids);
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
    expect(((await res.json()) as any).error.code).toBe("upstream_rate_limited");
    expect((await batchData(t, ids)).map((v) => v.id)).toEqual(ids);
  });

  it(`refuses more than ${TASK_BATCH_MAX} ids, and a body that is not { task_ids: [string] }, with 400 before reading`, async () => {
    startSimulator();
    const t = await createTenant();
    const id = await createTask(t);
    const before = callsTo(UPSTREAM_HOST).length;
    const over = await batch(
      t,
      Array.from({ length: TASK_BATCH_MAX + 1 }, () => id),
    );
    expect(over.status).toBe(400);
    expect(((await over.json()) as any).error).toMatchObject({
      code: "invalid_request",
      param: "task_ids",
    });
    for (const body of [{}, { task_ids: id }, { task_ids: [1] }, { task_ids: [id], more: true }]) {
      const res = await gw("/v1/tasks/batch", withJson(await t.token(), body));
      expect(res.status).toBe(400);
    }
    const text = await gw("/v1/tasks/batch", {
      method: "POST",
      headers: { authorization: `Bearer ${await t.token()}`, "content-type": "text/plain" },
      body: JSON.stringify({ task_ids: [id] }),
    });
    expect(text.status).toBe(415);
    expect(callsTo(UPSTREAM_HOST).length).toBe(before);
    expect(
      (
        await batchData(
          t,
          Array.from({ length: TASK_BATCH_MAX }, () => id),
        )
      ).length,
    ).toBe(1);
  });

  it("counts one read per distinct id, the user's first; over the limit, 429 before any task is read", async () => {
    startSimulator();
    const t = await createTenant();
    const ids = [await createTask(t), await createTask(t), await createTask(t)];
    const user = new StrictLimiter(5);
    const tenant = new StrictLimiter(100);
    const limits = { READ_LIMIT_USER: user, READ_LIMIT_TENANT: tenant };
    const token = await t.token({ sub: "user-1" });

    const ok = await sendCounted(limits, token, [ids[0], ids[1], ids[0], "unknown"]);
    expect(ok.status).toBe(200);
    expect(user.keys).toEqual(Array(3).fill(`user:${t.id}:user-1`));
    expect(tenant.keys).toEqual(Array(3).fill(`tenant:${t.id}`));

    const before = upstreamQueries();
    const over = await sendCounted(limits, token, ids);
    expect(over.status).toBe(429);
    expect(over.body.error).toMatchObject({
      code: "rate_limit_exceeded",
      details: { scope: "user", limit: "reads", max: READ_LIMITS.user.max },
    });
    expect(tenant.keys).toHaveLength(3); // a refused user does not count against its tenant
    expect(upstreamQueries()).toBe(before);
    expect(objectCalls(over.ops)).toEqual({});

    // A token without sub counts against its tenant only; an empty batch still counts once.
    const backend = await t.token({ sub: null });
    expect((await sendCounted(limits, backend, [])).status).toBe(200);
    expect(tenant.keys).toHaveLength(4);
    expect(user.keys).toHaveLength(6);
  });
});
