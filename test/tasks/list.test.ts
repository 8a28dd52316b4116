// GET /v1/tasks and the admin task views, through the real app with the simulator upstream: newest first,
// a user sees only its own tasks, filters, EvoLink-style paging, and clear 400s for bad queries.
import { describe, expect, it } from "vitest";
import { createTenant, hsTenant, type TenantFixture } from "../fixtures/tenants";
import { admin, bearer, gw, startSimulator, VALID_BODY, withJson } from "../helpers/gateway";

interface Page {
  data: Array<Record<string, unknown> & { id: string; status: string; model: string }>;
  total: number;
  page: number;
  page_size: number;
  total_exact: boolean;
}

async function create(t: TenantFixture, sub: string | null, body: object = VALID_BODY): Promise<string> {
  const res = await gw("/v1/videos/generations", withJson(await t.token({ sub }), body));
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

async function list(t: TenantFixture, sub: string | null, query = ""): Promise<Page> {
  const res = await gw(`/v1/tasks${query}`, bearer(await t.token({ sub })));
  expect(res.status).toBe(200);
  return (await res.json()) as Page;
}

describe("GET /v1/tasks", () => {
  it("lists the caller's tasks newest first; a token without sub sees the whole tenant's", async () => {
    const { clock } = startSimulator();
    const t = await createTenant();
    const a1 = await create(t, "alice");
    const b1 = await create(t, "bob");
    const a2 = await create(t, "alice", { ...VALID_BODY, model: "wan2.6-reference-video" });

    const alice = await list(t, "alice");
    expect(alice.data.map((x) => x.id)).toEqual([a2, a1]);
    expect(alice).toMatchObject({ total: 2, page: 1, page_size: 20, total_exact: true });
    expect(alice.data[0]).toEqual({
      id: a2,
      status: "pending",
      model: "wan2.6-reference-video",
      progress: 0,
      created: expect.any(Number),
      credits_reserved: 47.6,
      credits_used: null,
      has_results: false,
      has_error: false,
    });
    expect((await list(t, "bob")).data.map((x) => x.id)).toEqual([b1]);
    expect((await list(t, "carol")).total).toBe(0);
    expect((await list(t, null)).data.map((x) => x.id)).toEqual([a2, b1, a1]);

    // Ended tasks (the simulator's callbacks end them): completed with results and the credits charged.
    await clock.advance(10_000);
    const done = await list(t, "alice", "?status=completed");
    expect(done.data.map((x) => x.id)).toEqual([a2, a1]);
    expect(done.data[1]).toEqual(
      expect.objectContaining({ id: a1, progress: 100, has_results: true, credits_used: 23.8 }),
    );
    expect((await list(t, "alice", "?status=pending")).total).toBe(0);
    expect(done.total).toBe(2);
  });

  it("filters by status, model and creation time, and pages with page and page_size", async () => {
    startSimulator();
    const t = await createTenant();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push(await create(t, "u"));
    const other = await create(t, "u", { ...VALID_BODY, model: "wan2.6-reference-video" });
    const newest = [other, ...ids.reverse()];

    const p1 = await list(t, "u", "?page_size=2");
    const p2 = await list(t, "u", "?page_size=2&page=2");
    const p4 = await list(t, "u", "?page_size=2&page=4");
    expect(p1.data.map((x) => x.id)).toEqual(newest.slice(0, 2));
    expect(p2.data.map((x) => x.id)).toEqual(newest.slice(2, 4));
    expect(p4.data).toEqual([]);
    expect([p1.total, p2.total, p4.total]).toEqual([6, 6, 6]);
    expect(p2).toMatchObject({ page: 2, page_size: 2 });

    const flash = await list(t, "u", "?model=wan2.6-reference-video-flash");
    expect(flash.total).toBe(5);
    expect(flash.data.every((x) => x.model === "wan2.6-reference-video-flash")).toBe(true);
    expect(
      (await list(t, "u", "?status=pending&model=wan2.6-reference-video")).data.map((x) => x.id),
    ).toEqual([other]);
    expect((await list(t, "u", "?status=failed")).total).toBe(0);

    const now = Math.floor(Date.now() / 1000);
    const ranged = await list(
      t,
      "u",
      `?created_after=${now - 3600}&created_before=${now + 3600}&page_size=3`,
    );
    expect(ranged).toMatchObject({ total: 6, total_exact: true });
    expect(ranged.data).toHaveLength(3);
    expect((await list(t, "u", `?created_after=${now + 3600}`)).total).toBe(0);
    // EvoLink's CLI sends type=video; no task here is of another type.
    expect((await list(t, "u", "?type=video")).total).toBe(6);
    expect((await list(t, "u", "?type=image")).total).toBe(0);
  });

  it.each([
    ["?page_size=101", "page_size"],
    ["?page=0", "page"],
    ["?status=done", "status"],
    ["?created_after=yesterday", "created_after"],
    ["?page=200&page_size=100", "page"],
    ["?sub=someone", "sub"],
  ])("refuses %s with 400 invalid_request naming %s", async (query, param) => {
    const t = await createTenant();
    const res = await gw(`/v1/tasks${query}`, bearer(await t.token()));
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { code: string; param: string } }).error).toMatchObject({
      code: "invalid_request",
      param,
    });
  });

  it("needs a token", async () => {
    expect((await gw("/v1/tasks")).status).toBe(401);
  });
});

describe("admin task views", () => {
  it("lists a tenant's tasks with sub and upstream_id, filters by sub, and shows one task", async () => {
    const { sim, clock } = startSimulator();
    const t = await createTenant(hsTenant({ policy: { callback_hosts: ["hooks.example.com"] } }));
    const a = await create(t, "alice", { ...VALID_BODY, callback_url: "https://hooks.example.com/cb" });
    const b = await create(t, null);

    const res = await admin(`/admin/tenants/${t.id}/tasks`);
    expect(res.status).toBe(200);
    const all = (await res.json()) as Page;
    expect(all.data.map((x) => [x.id, x.sub])).toEqual([
      [b, null],
      [a, "alice"],
    ]);
    const upstreamIds = sim.tasks().map((x) => x.id);
    expect(upstreamIds).toContain(all.data[1]!.upstream_id);
    const alice = (await (await admin(`/admin/tenants/${t.id}/tasks?sub=alice`)).json()) as Page;
    expect(alice.data.map((x) => x.id)).toEqual([a]);

    await clock.advance(10_000);
    await gw(`/v1/tasks/${a}`, bearer(await t.token({ sub: "alice" })));
    const one = await admin(`/admin/tenants/${t.id}/tasks/${a}`);
    expect(one.status).toBe(200);
    expect(await one.json()).toEqual({
      id: a,
      upstream_id: all.data[1]!.upstream_id,
      sub: "alice",
      status: "completed",
      model: VALID_BODY.model,
      progress: 100,
      created: expect.any(Number),
      updated: expect.any(Number),
      ended: expect.any(Number),
      credits_reserved: 23.8,
      credits_used: 23.8,
      callback_url: "https://hooks.example.com/cb",
      error: null,
      // false until the alarm's copy is in R2, then true (test/results holds each state).
      results_stored: expect.any(Boolean),
      results_not_stored: expect.toBeOneOf([null, "copy_pending"]),
    });
  });

  it("answers 404 tenant_not_found and task_not_found", async () => {
    const t = await createTenant();
    const missing = await admin("/admin/tenants/no-such-tenant/tasks");
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { code: string } }).error.code).toBe("tenant_not_found");
    const task = await admin(`/admin/tenants/${t.id}/tasks/task-unified-1-nope`);
    expect(task.status).toBe(404);
    expect(((await task.json()) as { error: { code: string } }).error.code).toBe("task_not_found");
    expect((await gw(`/admin/tenants/${t.id}/tasks`)).status).toBe(401);
  });
});
