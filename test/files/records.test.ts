// The file records in the tenant's Durable Object, through the real app: who may list and delete what
// (a token with `sub` only its own, a token without `sub` the whole tenant's, anything else the uniform
// 404), the upload quotas and their refusals, usage and the operator's ledger, and deletion — on expiry,
// and when a task that used the file ends under `policy.delete_uploads_after_task`.
import { runDurableObjectAlarm } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { objectOf } from "../helpers/objects";
import { createTenant, hsTenant } from "../fixtures/tenants";
import { admin, GATEWAY, startSimulator, VALID_BODY, withJson } from "../helpers/gateway";
import { envelope, form, gwWith, mp4 } from "./helpers";

const R2 = { FILES_BACKEND: "r2" };
const auth = (token: string) => ({ headers: { authorization: `Bearer ${token}` } });

async function upload(token: string, size = 1000): Promise<Record<string, any>> {
  const res = await gwWith(R2, "/api/v1/files/upload/stream", form(token, mp4(size)));
  if (res.status !== 200) throw new Error(`upload failed: ${res.status} ${await res.text()}`);
  return (await envelope(res)).data!;
}

describe("who sees which files", () => {
  it("a token with sub lists and deletes only its own; without sub, the tenant's; others get the uniform 404", async () => {
    const t = await createTenant();
    const other = await createTenant(hsTenant());
    const alice = await t.token({ sub: "alice" });
    const bob = await t.token({ sub: "bob" });
    const tenantWide = await t.token({ sub: null });
    const a = await upload(alice);
    const b = await upload(bob);

    const list = async (token: string) =>
      (await envelope(await gwWith(R2, "/api/v1/files/list?page=1&pageSize=10", auth(token)))).data as any;
    expect((await list(alice)).files.map((f: any) => f.file_id)).toEqual([a.file_id]);
    expect((await list(bob)).total).toBe(1);
    expect((await list(tenantWide)).files.map((f: any) => f.file_id).sort()).toEqual(
      [a.file_id, b.file_id].sort(),
    );
    expect((await list(await other.token({ sub: null }))).total).toBe(0);

    for (const [token, id] of [
      [bob, a.file_id],
      [await other.token({ sub: null }), a.file_id],
      [alice, "file_doesnotexist"],
      [alice, "file_NOT-AN-ID"],
    ]) {
      const res = await gwWith(R2, `/api/v1/files/${id}`, { method: "DELETE", ...auth(token) });
      expect(res.status).toBe(404);
      expect(await envelope(res)).toMatchObject({
        success: false,
        code: 404,
        msg: "File not found",
        error: { code: "not_found", message: "File not found", type: "not_found_error" },
      });
    }
    expect(await env.UPLOADS!.head(`files/${t.id}/${a.file_id}`)).not.toBeNull();
    const del = await gwWith(R2, `/api/v1/files/${a.file_id}`, { method: "DELETE", ...auth(tenantWide) });
    expect(del.status).toBe(200);
    expect(await env.UPLOADS!.head(`files/${t.id}/${a.file_id}`)).toBeNull();
    expect((await gwWith(R2, a.file_url.slice(GATEWAY.length))).status).toBe(404);
  });

  it("every files route wants the tenant's token: 401 in both envelopes without one", async () => {
    for (const [method, path] of [
      ["POST", "/api/v1/files/upload/stream"],
      ["GET", "/api/v1/files/quota"],
      ["GET", "/api/v1/files/list"],
      ["DELETE", "/api/v1/files/file_abc"],
    ]) {
      const res = await gwWith(R2, path!, { method });
      expect(res.status).toBe(401);
      expect(res.headers.get("www-authenticate")).toContain("invalid_token");
      expect(await envelope(res)).toMatchObject({
        success: false,
        code: 401,
        error: { code: "unauthorized" },
      });
    }
  });
});

describe("upload quotas", () => {
  it("max_files per user and per tenant, refused with the quota shape; a deleted file frees its slot", async () => {
    const t = await createTenant(hsTenant({ quotas: { max_files: 3 }, user_quotas: { max_files: 2 } }));
    const alice = await t.token({ sub: "alice" });
    const a1 = await upload(alice);
    await upload(alice);
    const refused = await gwWith(R2, "/api/v1/files/upload/stream", form(alice, mp4(100)));
    expect(refused.status).toBe(402);
    expect(await envelope(refused)).toMatchObject({
      success: false,
      code: 402,
      error: {
        code: "insufficient_quota",
        type: "insufficient_quota",
        details: { scope: "user", limit: "max_files", max: 2, used: 2, remaining: 0 },
      },
    });
    await upload(await t.token({ sub: "bob" }));
    const tenantFull = await gwWith(
      R2,
      "/api/v1/files/upload/stream",
      form(await t.token({ sub: "carol" }), mp4(100)),
    );
    expect((await envelope(tenantFull)).error).toMatchObject({
      details: { scope: "tenant", limit: "max_files", max: 3 },
    });
    const quota = await envelope(await gwWith(R2, "/api/v1/files/quota", auth(alice)));
    expect(quota.data).toMatchObject({ used_files: 2, max_files: 2, remain_files: 0, is_custom: true });
    await gwWith(R2, `/api/v1/files/${a1.file_id}`, { method: "DELETE", ...auth(alice) });
    expect((await gwWith(R2, "/api/v1/files/upload/stream", form(alice, mp4(100)))).status).toBe(200);
  });

  it("monthly_upload_bytes: a declared size over what is left is refused up front, a stream at the moment it passes", async () => {
    const t = await createTenant(hsTenant({ user_quotas: { monthly_upload_bytes: 3000 } }));
    const alice = await t.token({ sub: "alice" });
    await upload(alice, 2000);
    const streamed = await gwWith(R2, "/api/v1/files/upload/stream", form(alice, mp4(1001)));
    expect(streamed.status).toBe(402);
    expect((await envelope(streamed)).error).toMatchObject({
      code: "insufficient_quota",
      details: {
        scope: "user",
        limit: "monthly_upload_bytes",
        total_limit_bytes: 3000,
        used_bytes: 2000,
        remaining_bytes: 1000,
        reset_timezone: "UTC",
      },
    });
    expect((await env.UPLOADS!.list({ prefix: `files/${t.id}/` })).objects).toHaveLength(1);
    await upload(alice, 1000);
    const none = await gwWith(R2, "/api/v1/files/upload/stream", form(alice, mp4(10)));
    expect((await envelope(none)).error?.details).toMatchObject({
      limit: "monthly_upload_bytes",
      remaining_bytes: 0,
    });
  });

  it("with R2 a tenant that sets no max_files keeps EvoLink's default 2000, shown and enforced", async () => {
    const t = await createTenant();
    const token = await t.token({ sub: null });
    await upload(token);
    const quota = await envelope(await gwWith(R2, "/api/v1/files/quota", auth(token)));
    expect(quota.data).toEqual({
      user_group: "tenant",
      used_files: 1,
      max_files: 2000,
      remain_files: 1999,
      is_custom: false,
      quota_reason: "",
    });
    const usage = (await (await gwWith(R2, "/v1/usage", auth(token))).json()) as any;
    expect(usage.tenant.uploads.max_files).toEqual({ limit: 2000, used: 1, remaining: 1999 });
    // 1999 more slots taken (pending uploads count): the next upload is refused on the default.
    const { runInDurableObject } = await import("cloudflare:test");
    await runInDurableObject(await objectOf(t.id), (_o, s: DurableObjectState) => {
      for (let i = 0; i < 1999; i++)
        s.storage.sql.exec(
          "INSERT INTO files (id, sub, state, backend, created_at, expires_at) VALUES (?, NULL, 'pending', 'r2', ?, ?)",
          `file_fill${i}`,
          Date.now(),
          Date.now() + 600_000,
        );
    });
    const refused = await gwWith(R2, "/api/v1/files/upload/stream", form(token, mp4(1000)));
    expect(refused.status).toBe(402);
    expect((await envelope(refused)).error).toMatchObject({
      code: "insufficient_quota",
      details: { scope: "tenant", limit: "max_files", max: 2000, used: 2000 },
    });
    const full = await envelope(await gwWith(R2, "/api/v1/files/quota", auth(token)));
    expect(full.data).toMatchObject({ used_files: 2000, max_files: 2000, remain_files: 0 });
  });

  it("uploads appear in GET /v1/usage per scope and in the operator's ledger", async () => {
    const t = await createTenant(hsTenant({ quotas: { max_files: 10, monthly_upload_bytes: 1_000_000 } }));
    const alice = await t.token({ sub: "alice" });
    await upload(alice, 1500);
    await upload(await t.token({ sub: "bob" }), 500);
    const usage = (await (await gwWith(R2, "/v1/usage", auth(alice))).json()) as any;
    const tenantWide = (await (
      await gwWith(R2, "/v1/usage", auth(await t.token({ sub: null })))
    ).json()) as any;
    expect(usage.tenant).toBeUndefined(); // a user token sees its own scope only
    expect(tenantWide.tenant.uploads).toMatchObject({
      max_files: { limit: 10, used: 2, remaining: 8 },
      monthly_upload_bytes: { limit: 1_000_000, used: 2000, remaining: 998_000 },
    });
    expect(usage.user.uploads).toMatchObject({
      max_files: { limit: null, used: 1, remaining: null },
      monthly_upload_bytes: { limit: null, used: 1500 },
    });
    const ledger = (await (await admin(`/admin/tenants/${t.id}/usage`)).json()) as any;
    expect(ledger.uploads).toEqual([
      { scope: "tenant", files: 2, bytes: 2000 },
      { scope: "user", sub: "alice", files: 1, bytes: 1500 },
      { scope: "user", sub: "bob", files: 1, bytes: 500 },
    ]);
  });
});

describe("deletion", () => {
  it("an expired file is deleted from R2 by the tenant object's alarm, and its URL stops working", async () => {
    const t = await createTenant();
    const token = await t.token();
    const f = await upload(token);
    const stub = await objectOf(t.id);
    await runDurableObjectAlarm(stub); // nothing is due yet
    expect(await env.UPLOADS!.head(`files/${t.id}/${f.file_id}`)).not.toBeNull();
    const { runInDurableObject } = await import("cloudflare:test");
    await runInDurableObject(stub, (_o, s: DurableObjectState) => {
      s.storage.sql.exec("UPDATE files SET expires_at = ? WHERE id = ?", Date.now() - 1, f.file_id);
    });
    await runDurableObjectAlarm(stub);
    expect(await env.UPLOADS!.head(`files/${t.id}/${f.file_id}`)).toBeNull();
    const list = await envelope(await gwWith(R2, "/api/v1/files/list", auth(token)));
    expect(list.data!.total).toBe(0);
  });

  it("policy.delete_uploads_after_task: the files a task used are deleted once it has ended", async () => {
    const { clock } = startSimulator();
    const t = await createTenant(hsTenant({ policy: { delete_uploads_after_task: true } }));
    const token = await t.token({ sub: "alice" });
    const used = await upload(token);
    const kept = await upload(token);
    const created = await gwWith(
      R2,
      "/v1/videos/generations",
      withJson(token, { ...VALID_BODY, video_urls: [used.file_url] }),
    );
    expect(created.status).toBe(200);
    const task = (await created.json()) as { id: string };
    await runDurableObjectAlarm(await objectOf(t.id));
    expect(await env.UPLOADS!.head(`files/${t.id}/${used.file_id}`)).not.toBeNull();
    await clock.advance(10_000);
    const done = (await (await gwWith(R2, `/v1/tasks/${task.id}`, auth(token))).json()) as { status: string };
    expect(done.status).toBe("completed");
    await runDurableObjectAlarm(await objectOf(t.id));
    expect(await env.UPLOADS!.head(`files/${t.id}/${used.file_id}`)).toBeNull();
    expect(await env.UPLOADS!.head(`files/${t.id}/${kept.file_id}`)).not.toBeNull();
    expect((await gwWith(R2, used.file_url.slice(GATEWAY.length))).status).toBe(404);
  });
});
