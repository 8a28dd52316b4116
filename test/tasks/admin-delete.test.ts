// DELETE /admin/tenants/{tenant_id}/tasks/{task_id} through the real app: the operator deletes any user's ended
// task and its kept results as the tenant's DELETE /v1/tasks/{id} does (200, then 404 everywhere, the R2 objects
// gone), a task in flight is 409 task_in_flight, and an id that is not the tenant's is 404. The task view says
// why results are not stored.
import { describe, expect, it } from "vitest";
import { resultsNotStored } from "../../src/tasks/list";
import { eventually } from "../callbacks/helpers";
import { admin, gw, startSimulator } from "../helpers/gateway";
import { completed, create, keysUnder, pathOf, read, storedIs, tenantWith } from "../results/helpers";

const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code;
const del = (tenant: string, task: string) =>
  admin(`/admin/tenants/${tenant}/tasks/${task}`, { method: "DELETE" });

describe("DELETE /admin/tenants/{tenant_id}/tasks/{task_id}", () => {
  it("deletes an ended task and its kept results: then 404 for the operator, the tenant and the result URL", async () => {
    const t = await tenantWith();
    const c = await completed(t);
    await storedIs(t, c.id, true);
    expect(await keysUnder(`results/${t.id}/`)).toHaveLength(1);
    const view = (await (await admin(`/admin/tenants/${t.id}/tasks/${c.id}`)).json()) as Record<string, any>;
    expect(view).toMatchObject({ results_stored: true, results_not_stored: null });

    const res = await del(t.id, c.id);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: c.id, object: "video.generation.task", deleted: true });
    expect(await keysUnder(`results/${t.id}/`)).toEqual([]);
    expect((await admin(`/admin/tenants/${t.id}/tasks/${c.id}`)).status).toBe(404);
    expect((await read(t, c.id)).status).toBe(404);
    expect((await gw(pathOf(c.results[0]!))).status).toBe(404);
    const again = await del(t.id, c.id);
    expect(again.status).toBe(404);
    expect(await code(again)).toBe("task_not_found");
  });

  it("refuses a task in flight with 409 task_in_flight, and keeps it", async () => {
    const t = await tenantWith();
    startSimulator();
    const id = await create(t);
    const res = await del(t.id, id);
    expect(res.status).toBe(409);
    expect(await code(res)).toBe("task_in_flight");
    expect((await admin(`/admin/tenants/${t.id}/tasks/${id}`)).status).toBe(200);
  });

  it("answers 404 for an id of another tenant, a malformed id, and an unknown tenant", async () => {
    const t = await tenantWith();
    const other = await tenantWith();
    const c = await completed(other);
    const foreign = await del(t.id, c.id);
    expect(foreign.status).toBe(404);
    expect(await code(foreign)).toBe("task_not_found");
    expect((await read(other, c.id)).status).toBe(200);
    expect(await code(await del(t.id, "task-unified-nope"))).toBe("task_not_found");
    const missing = await del("no-such-tenant", c.id);
    expect(missing.status).toBe(404);
    expect(await code(missing)).toBe("tenant_not_found");
    expect((await gw(`/admin/tenants/${other.id}/tasks/${c.id}`, { method: "DELETE" })).status).toBe(401);
  });
});

describe("the admin task view's results_not_stored", () => {
  it("is copy_pending while a copy is still to come", async () => {
    const t = await tenantWith();
    const h = startSimulator();
    h.sim.inject({ media: { status: 503 } });
    const c = await completed(t, h);
    await eventually(async () => {
      const view = (await (await admin(`/admin/tenants/${t.id}/tasks/${c.id}`)).json()) as Record<
        string,
        any
      >;
      expect(view).toMatchObject({ results_stored: false, results_not_stored: "copy_pending" });
    });
  });

  it("names the first reason that applies: a copy to come, then the storage limit, then a lost link", () => {
    expect(resultsNotStored([])).toBeNull();
    expect(resultsNotStored(["stored", "stored"])).toBeNull();
    expect(resultsNotStored(["stored", "lost"])).toBe("link_lost");
    expect(resultsNotStored(["lost", "refused"])).toBe("storage_limit");
    expect(resultsNotStored(["refused", "pending"])).toBe("copy_pending");
  });
});
