// Deleting what a tenant owns, through the real app: DELETE /v1/tasks/{id} removes an ended task's kept
// results and its record (its id and its URLs answer 404 after, its credits stay in the ledger); a task in
// flight is 409; deleting a tenant leaves 0 objects under its prefix and its URLs 404.
import { describe, expect, it } from "vitest";
import { admin, gw, startSimulator } from "../helpers/gateway";
import { rowOf } from "../helpers/objects";
import { completed, create, inObject, keysUnder, pathOf, read, storedIs, tenantWith } from "./helpers";

const del = async (t: Awaited<ReturnType<typeof tenantWith>>, id: string, sub: string | null = "user-1") =>
  gw(`/v1/tasks/${id}`, { method: "DELETE", headers: { authorization: `Bearer ${await t.token({ sub })}` } });

describe("DELETE /v1/tasks/{id}", () => {
  it("removes the kept results and the task: its id and its result URLs answer 404, the ledger keeps its credits", async () => {
    const t = await tenantWith();
    const c = await completed(t);
    await storedIs(t, c.id, true);
    const url = pathOf(c.results[0]!);
    expect((await gw(url)).status).toBe(200);
    const row = await rowOf(t.id, c.id);

    const res = await del(t, c.id);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ id: c.id, object: "video.generation.task", deleted: true });

    expect(await keysUnder(`results/${t.id}/`)).toEqual([]);
    expect((await gw(url)).status).toBe(404);
    const gone = await read(t, c.id);
    expect(gone.status).toBe(404);
    expect(((await gone.json()) as { error: { code: string } }).error.code).toBe("task_not_found");
    // Erased down to its accounting: no snapshot, no callback URL; its charge is still there for the ledger.
    const [task] = await inObject(t.id, (sql) =>
      sql.exec("SELECT state, snapshot, callback_url, charged FROM tasks WHERE id = ?", row).toArray(),
    );
    expect(task).toMatchObject({ state: "deleted", snapshot: null, callback_url: null });
    expect(task!.charged as number).toBeGreaterThan(0);
    // Not listed, and a second DELETE is 404.
    const list = await gw("/v1/tasks", { headers: { authorization: `Bearer ${await t.token()}` } });
    expect(((await list.json()) as { data: unknown[] }).data).toEqual([]);
    expect((await del(t, c.id)).status).toBe(404);
  });

  it("a task in flight is 409 task_in_flight, and nothing is removed", async () => {
    const t = await tenantWith();
    startSimulator();
    const id = await create(t);
    const res = await del(t, id);
    expect(res.status).toBe(409);
    expect(((await res.json()) as { error: { code: string; type: string } }).error).toMatchObject({
      code: "task_in_flight",
      type: "conflict_error",
    });
    expect((await read(t, id)).status).toBe(200);
  });

  it("another user's task is 404; a token without sub may delete any of the tenant's", async () => {
    const t = await tenantWith();
    const c = await completed(t);
    expect((await del(t, c.id, "mallory")).status).toBe(404);
    expect((await read(t, c.id)).status).toBe(200);
    expect((await del(t, c.id, null)).status).toBe(200);
    expect((await read(t, c.id)).status).toBe(404);
  });
});

describe("deleting a tenant", () => {
  it("leaves 0 objects under its prefix, and a result URL minted before answers 404", async () => {
    const t = await tenantWith();
    const c = await completed(t);
    await storedIs(t, c.id, true);
    expect(await keysUnder(`results/${t.id}/`)).toHaveLength(1);
    const res = await admin(`/admin/tenants/${t.id}?force=true`, { method: "DELETE" });
    expect(res.status).toBe(204);
    expect(await keysUnder(`results/${t.id}/`)).toEqual([]);
    expect((await gw(pathOf(c.results[0]!))).status).toBe(404);
  });
});
