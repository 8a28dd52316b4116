// GET /v1/tasks/{id}: the upstream's task with the gateway's id, visible only to its owner.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import { loadConfig } from "../../src/config/env";
import { createTenant, type TenantFixture } from "../fixtures/tenants";
import { GATEWAY, UPSTREAM_HOST, VALID_BODY, bearer, gw, startSimulator, withJson } from "../helpers/gateway";
import { callsTo } from "../helpers/outbound";

async function createTask(t: TenantFixture, sub: string | null = "user-1", body: object = VALID_BODY) {
  const res = await gw("/v1/videos/generations", withJson(await t.token({ sub }), body));
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

async function getTask(t: TenantFixture, id: string, sub: string | null = "user-1") {
  return gw(`/v1/tasks/${id}`, bearer(await t.token({ sub })));
}

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

    // An ended task is served from the recorded final state: no further upstream query.
    const before = callsTo(UPSTREAM_HOST).length;
    expect((await (await getTask(t, id)).json()) as object).toEqual(done);
    expect(callsTo(UPSTREAM_HOST).length).toBe(before);
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

describe("poll collapsing (TASK_POLL_CACHE_MS)", () => {
  it("answers a task heard from within the window from its recorded state, without asking the upstream", async () => {
    const { sim, clock } = startSimulator();
    sim.inject({ dropCallbacks: true }); // only polls tell the gateway about the end
    const t = await createTenant();
    const id = await createTask(t);
    const cached = { ...env, TASK_POLL_CACHE_MS: "60000" };
    const poll = async () =>
      app.fetch(new Request(`${GATEWAY}/v1/tasks/${id}`, bearer(await t.token())), cached);

    const before = callsTo(UPSTREAM_HOST).length;
    await clock.advance(10_000); // finished upstream, but the gateway heard from it just now (creation)
    const first = (await (await poll()).json()) as { status: string };
    expect(first.status).toBe("pending");
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
