// GET /v1/tasks/{id}: the upstream's task with the gateway's id, visible only to its owner, answered at the
// edge from the id alone (an envelope bound to the tenant) and the upstream while it runs; once it has ended,
// from the object's record of its end and the location's cache, never from the upstream again.
import { env } from "cloudflare:workers";
import { afterEach, describe, expect, it, vi } from "vitest";
import { app } from "../../src/app";
import { TASK_RECORD_FIRST_AFTER_MS } from "../../src/config/constants";
import { loadConfig } from "../../src/config/env";
import { createTenant, type TenantFixture } from "../fixtures/tenants";
import { GATEWAY, UPSTREAM_HOST, VALID_BODY, bearer, gw, startSimulator, withJson } from "../helpers/gateway";
import { callsTo } from "../helpers/outbound";
import { objectOf, rowOf } from "../helpers/objects";
import { countingEnv } from "../perf/counting";
import type { Env } from "../../src/env";
import { createExecutionContext, runInDurableObject, waitOnExecutionContext } from "cloudflare:test";

async function createTask(t: TenantFixture, sub: string | null = "user-1", body: object = VALID_BODY) {
  const res = await gw("/v1/videos/generations", withJson(await t.token({ sub }), body));
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

async function getTask(t: TenantFixture, id: string, sub: string | null = "user-1") {
  return gw(`/v1/tasks/${id}`, bearer(await t.token({ sub })));
}

/**
 * Drops a task's entry from this location's cache, as another location (or an eviction) would not have it.
 * The entry is written after the answer (waitUntil), so this waits for it to be there first.
 */
async function evict(id: string) {
  const key = `${GATEWAY}/__poll-cache/tasks/${id}`;
  await vi.waitFor(async () => expect(await caches.default.delete(key)).toBe(true), { interval: 10 });
}

const upstreamQueries = () => callsTo(UPSTREAM_HOST).filter((c) => c.method === "GET").length;

afterEach(() => vi.useRealTimers());

describe("GET /v1/tasks/{id}", () => {
  it("follows the task from pending to completed, always under the gateway's id", async () => {
    const { sim, clock } = startSimulator();
    const t = await createTenant();
    const id = await createTask(t);
    const upstreamId = sim.tasks()[0]!.id;

    const pending = (await (await getTask(t, id)).json()) as Record<string, any>;
    expect(pending).toMatchObject({ id, status: "pending", object: "video.generation.task", type: "video" });

    await clock.advance(2_000);
    const processing = (await (await getTask(t, id)).json()) as Record<string, any>;
    expect(processing.status).toBe("processing");
    expect(processing.progress).toBeGreaterThan(0);

    await clock.advance(10_000);
    const res = await getTask(t, id);
    const done = (await res.json()) as Record<string, any>;
    expect(done).toMatchObject({
      id,
      status: "completed",
      progress: 100,
      results: [expect.stringMatching(/^https:\/\//)],
    });
    // The upstream's id appears nowhere but inside its own result URLs (which the gateway does not proxy).
    expect(JSON.stringify({ ...done, results: [] })).not.toContain(upstreamId);
    expect(done.usage).toBeUndefined();

    // Polled again, an ended task answers the same (with the poll cache on, from the location's cache).
    expect((await (await getTask(t, id)).json()) as object).toEqual(done);
  });

  it("shows a failed task's error in the task_error shape", async () => {
    const { clock } = startSimulator();
    const t = await createTenant();
    const id = await createTask(t, "user-1", { ...VALID_BODY, prompt: "something [sim:fail]" });
    await clock.advance(10_000);
    const body = (await (await getTask(t, id)).json()) as Record<string, any>;
    expect(body.status).toBe("failed");
    expect(body.error).toEqual({
      code: "content_policy_violation",
      message: expect.any(String),
      type: "task_error",
    });
  });

  it("is visible only to its tenant, and to its user when the token has a sub", async () => {
    startSimulator();
    const a = await createTenant();
    const b = await createTenant();
    const id = await createTask(a, "alice");

    const notFoundBody = async (res: Response) => {
      expect(res.status).toBe(404);
      const body = (await res.json()) as { error: Record<string, unknown> };
      expect(body.error.code).toBe("task_not_found");
      return body;
    };
    const other = await notFoundBody(await getTask(b, id, "alice"));
    const otherUser = await notFoundBody(await getTask(a, id, "bob"));
    const forged = await notFoundBody(
      await getTask(a, id.slice(0, -1) + (id.endsWith("a") ? "b" : "a"), "alice"),
    );
    const garbage = await notFoundBody(await getTask(a, "task-unified-1-x", "alice"));
    // Indistinguishable from a task that does not exist.
    expect(other).toEqual(otherUser);
    expect(other).toEqual(forged);
    expect(other).toEqual(garbage);

    expect((await getTask(a, id, "alice")).status).toBe(200);
    expect((await getTask(a, id, null)).status).toBe(200); // no sub: the whole tenant's tasks
  });

  it("hides a task created without sub from tokens that name a user", async () => {
    startSimulator();
    const t = await createTenant();
    const id = await createTask(t, null);
    expect((await getTask(t, id, "user-1")).status).toBe(404);
    expect((await getTask(t, id, null)).status).toBe(200);
  });

  it("maps upstream failures on the task query", async () => {
    const { sim } = startSimulator();
    const t = await createTenant();
    const id = await createTask(t);
    sim.inject({ query: { status: 429, count: 1, retryAfterSeconds: 7 } });
    const limited = await getTask(t, id);
    expect(limited.status).toBe(429);
    expect(limited.headers.get("retry-after")).toBe("7");
    sim.inject({ query: { status: 401, count: 1 } });
    expect((await getTask(t, id)).status).toBe(503);
    sim.inject({ query: { status: 500, count: 1 } });
    expect((await getTask(t, id)).status).toBe(502);
    expect((await getTask(t, id)).status).toBe(200);
  });

  it("requires a valid tenant token and never calls the upstream without one", async () => {
    startSimulator();
    const t = await createTenant();
    const id = await createTask(t);
    const before = callsTo(UPSTREAM_HOST).length;
    for (const init of [{}, bearer("not-a-jwt"), bearer(await t.token({ aud: "someone-else" }))]) {
      const res = await gw(`/v1/tasks/${id}`, init);
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
      expect(await res.json()).toMatchObject({
        error: { code: "unauthorized", type: "authentication_error" },
      });
    }
    expect(callsTo(UPSTREAM_HOST).length).toBe(before);
  });
});

describe("task ids open at the edge", () => {
  it("refuses a tampered, truncated, foreign or garbage id with 404 and no storage read or upstream call", async () => {
    startSimulator();
    const a = await createTenant();
    const b = await createTenant();
    const id = await createTask(a, "alice");
    const counted = countingEnv(env as Env);
    const poll = async (tenant: TenantFixture, taskId: string) => {
      const ctx = createExecutionContext();
      const req = new Request(`${GATEWAY}/v1/tasks/${taskId}`, bearer(await tenant.token({ sub: "alice" })));
      const res = await app.fetch(req, counted.env, ctx);
      await waitOnExecutionContext(ctx);
      return res.status;
    };
    await poll(a, id); // warm the tenant caches
    await poll(b, id);
    counted.take();
    const before = callsTo(UPSTREAM_HOST).length;
    const body = id.slice("task-unified-".length);
    const flipped = (i: number) => id.slice(0, i) + (id[i] === "a" ? "b" : "a") + id.slice(i + 1);
    const variants = [
      flipped(15), // inside the nonce
      flipped(40), // inside the sealed claims
      flipped(id.length - 1), // inside the tag
      id.slice(0, -1),
      `task-unified-${body.toUpperCase()}`,
      `task-unified-${body}a`,
      `task-unified-1757165031-uyujaw3d`, // the upstream's own id format
      body,
    ];
    for (const v of variants) expect(await poll(a, v), v).toBe(404);
    expect(await poll(b, id)).toBe(404); // another tenant's key binding
    // Each is refused before any storage read; only its read counts (src/http/read-limit.ts).
    const reads = variants.length + 1;
    expect(counted.take()).toEqual({ "READ_LIMIT_USER.limit": reads, "READ_LIMIT_TENANT.limit": reads });
    expect(callsTo(UPSTREAM_HOST).length).toBe(before);
  });

  it("keeps the task-unified- prefix and the [a-z0-9-] alphabet of the upstream's ids", async () => {
    startSimulator();
    const t = await createTenant();
    const id = await createTask(t);
    expect(id).toMatch(/^task-unified-[a-z2-7]+$/);
    const again = await createTask(t);
    expect(again).not.toBe(id);
  });

  it("answers from the object's record once the upstream no longer knows an ended task", async () => {
    const { sim, clock } = startSimulator();
    const t = await createTenant();
    const id = await createTask(t);
    await clock.advance(10_000); // completed; the callback ends it in the object
    const done = (await (await getTask(t, id)).json()) as Record<string, unknown>;
    expect(done.status).toBe("completed");
    sim.reset(); // the upstream forgets its tasks
    await evict(id); // and this location's cache no longer holds it
    const res = await getTask(t, id);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual(done);
  });

  it("a live task the upstream forgot is not found (the sweeper settles it as lost)", async () => {
    const { sim } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await createTenant();
    const id = await createTask(t);
    sim.reset();
    expect((await getTask(t, id)).status).toBe(404);
  });

  it("a record that no longer fits the schema is logged, not a bare 500", async () => {
    const { sim, clock } = startSimulator();
    const t = await createTenant();
    const id = await createTask(t);
    await clock.advance(10_000);
    expect((await getTask(t, id)).status).toBe(200);
    const stub = await objectOf(t.id);
    const row = await rowOf(t.id, id);
    await runInDurableObject(stub, (_o, state: DurableObjectState) => {
      state.storage.sql.exec("UPDATE tasks SET snapshot = '{\"status\": 7}' WHERE id = ?", row);
    });
    sim.reset();
    await evict(id);
    const res = await getTask(t, id);
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.code).toBe("task_not_found");
  });
});

describe("an ended task is the gateway's own: never asked of the upstream again", () => {
  it("keeps the final view in the location's cache, with the poll cache off", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true }); // only polls tell the gateway about the end
    const t = await createTenant();
    const id = await createTask(t);
    await clock.advance(10_000);
    const before = upstreamQueries();
    const done = (await (await getTask(t, id)).json()) as Record<string, unknown>;
    expect(done.status).toBe("completed");
    expect(upstreamQueries()).toBe(before + 1);
    sim.inject({ query: { status: 500, count: 100 } }); // would be a 502, were it asked
    for (let i = 0; i < 5; i++) expect(await (await getTask(t, id)).json()).toEqual(done);
    expect(upstreamQueries()).toBe(before + 1);
  });

  it("answers an old task from its object's record of the end when the cache does not hold it", async () => {
    const { sim, clock } = startSimulator();
    const t = await createTenant();
    const id = await createTask(t);
    await clock.advance(10_000); // completed; the callback ends it in the object (no poll has seen it)
    const row = await rowOf(t.id, id);
    await vi.waitFor(async () => expect((await (await objectOf(t.id)).getTask(row))?.endedAt).not.toBeNull());
    const token = await t.token(); // verified on the real clock; the task's age is read on the fake one
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + TASK_RECORD_FIRST_AFTER_MS });
    sim.inject({ query: { status: 500, count: 100 } });
    const before = upstreamQueries();
    const res = await gw(`/v1/tasks/${id}`, bearer(token));
    expect(res.status).toBe(200);
    const view = (await res.json()) as Record<string, unknown>;
    expect(view).toMatchObject({ id, status: "completed", results: [expect.stringMatching(/^https:/)] });
    expect(upstreamQueries()).toBe(before);
    // The record's view is now this location's too.
    await evict(id);
  });

  it("asks the upstream about an old task whose record has not ended, and about a young one", async () => {
    const { sim } = startSimulator();
    sim.inject({ dropCallbacks: true });
    const t = await createTenant();
    const young = await createTask(t);
    const token = await t.token();
    const before = upstreamQueries();
    expect((await gw(`/v1/tasks/${young}`, bearer(token))).status).toBe(200);
    expect(upstreamQueries()).toBe(before + 1);
    vi.useFakeTimers({ toFake: ["Date"], now: Date.now() + TASK_RECORD_FIRST_AFTER_MS });
    const res = await gw(`/v1/tasks/${young}`, bearer(token));
    expect(((await res.json()) as { status: string }).status).toBe("pending");
    expect(upstreamQueries()).toBe(before + 2);
  });
});

describe("poll collapsing (TASK_POLL_CACHE_MS, the Cache API)", () => {
  it("answers a live task polled within the window from the location's cache, without asking the upstream", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true }); // only polls tell the gateway about the end
    const t = await createTenant();
    const id = await createTask(t);
    const cached = { ...env, TASK_POLL_CACHE_MS: "60000" };
    const poll = async () => {
      const ctx = createExecutionContext();
      const res = await app.fetch(
        new Request(`${GATEWAY}/v1/tasks/${id}`, bearer(await t.token())),
        cached,
        ctx,
      );
      await waitOnExecutionContext(ctx);
      return (await res.json()) as { status: string };
    };

    expect((await poll()).status).toBe("pending");
    const before = callsTo(UPSTREAM_HOST).length;
    await clock.advance(10_000); // finished upstream, but this location asked it just now
    expect((await poll()).status).toBe("pending");
    expect(callsTo(UPSTREAM_HOST).length).toBe(before);

    // Off (the tests' default), the same poll asks the upstream and sees the end.
    const res = await getTask(t, id);
    expect(((await res.json()) as { status: string }).status).toBe("completed");
    expect(callsTo(UPSTREAM_HOST).length).toBe(before + 1);
  });

  it("is on by default for one second", async () => {
    expect(loadConfig({ ...env, TASK_POLL_CACHE_MS: undefined }).taskPollCacheMs).toBe(1_000);
  });
});
