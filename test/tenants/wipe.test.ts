// Deleting a tenant deletes every R2 key it owns: its uploads (`files/{id}/` in UPLOADS) and its kept
// results (`results/{id}/` in RESULTS), page by page, before its record goes; a deletion with more pages
// than one call may run answers 202 and is finished by the next call. Its file URLs answer 404 after it.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { type BucketPrefix, tenantPrefixes, wipePrefixes } from "../../src/state/buckets";
import { tenantObject } from "../../src/state/client";
import { endIncarnation } from "../../src/tenants/lifecycle";
import { forgetTenant } from "../../src/tenants/lookup";
import { registry } from "../../src/tenants/registry-client";
import { createTenant, hsTenant, type TenantFixture } from "../fixtures/tenants";
import { ADMIN_TOKEN, admin, bearer, GATEWAY, gw } from "../helpers/gateway";
import { envelope, form, gwWith, incarnationOf, mp4 } from "../files/helpers";

const R2 = { FILES_BACKEND: "r2" };
const uploads = () => env.UPLOADS!;
const results = () => env.RESULTS!;
const del = (id: string, vars: Record<string, unknown> = {}) =>
  gwWith(vars, `/admin/tenants/${id}?force=true`, {
    method: "DELETE",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });

/** Every key under `prefix`, however many pages. */
async function keys(bucket: R2Bucket, prefix: string): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await bucket.list({ prefix, ...(cursor ? { cursor } : {}) });
    out.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return out;
}

async function uploadUrl(t: TenantFixture): Promise<string> {
  const res = await gwWith(R2, "/api/v1/files/upload/stream", form(await t.token(), mp4(2000)));
  expect(res.status).toBe(200);
  return (await envelope(res)).data!.file_url as string;
}

/** Kept results as the results code stores them: `results/{tenant}/{incarnation}/{task row}/{index}`. */
async function putResults(tenantId: string, incarnation: string, n: number): Promise<string[]> {
  const put = Array.from({ length: n }, (_, i) => `results/${tenantId}/${incarnation}/${100 + i}/0`);
  await Promise.all(
    put.map((k) => results().put(k, "video bytes", { httpMetadata: { contentType: "video/mp4" } })),
  );
  return put;
}

/** R2 as it may answer: fewer keys per `list` page than asked for (and `truncated` while more remain). */
function smallPages(bucket: R2Bucket, perPage: number): R2Bucket {
  return new Proxy(bucket, {
    get(target, prop) {
      if (prop === "list")
        return (o: R2ListOptions = {}) => target.list({ ...o, limit: Math.min(perPage, o.limit ?? 1000) });
      const v: unknown = Reflect.get(target, prop);
      return typeof v === "function" ? v.bind(target) : v;
    },
  });
}

describe("DELETE /admin/tenants/{id} and the tenant's R2 keys", () => {
  it("leaves 0 keys under its uploads and results prefixes, another tenant's survive, and its file URLs answer 404", async () => {
    const t = await createTenant();
    const other = await createTenant();
    // A tenant whose id extends t's: its keys share the text of t's prefix, not the prefix itself.
    const longer = await createTenant(hsTenant({}, `${t.id}-2`));
    const life = await incarnationOf(t.id);
    const urls = [await uploadUrl(t), await uploadUrl(t)];
    const otherUrl = await uploadUrl(other);
    await uploadUrl(longer);
    await putResults(t.id, life, 3);
    await putResults(t.id, "earlierlife00000", 1);
    const kept = [
      ...(await putResults(other.id, await incarnationOf(other.id), 1)),
      ...(await putResults(longer.id, await incarnationOf(longer.id), 1)),
    ];
    expect(await keys(uploads(), `files/${t.id}/`)).toHaveLength(2);
    expect(await keys(results(), `results/${t.id}/`)).toHaveLength(4);
    for (const url of urls) expect((await gwWith(R2, url.slice(GATEWAY.length))).status).toBe(200);

    expect((await del(t.id)).status).toBe(204);

    expect(await keys(uploads(), `files/${t.id}/`)).toEqual([]);
    expect(await keys(results(), `results/${t.id}/`)).toEqual([]);
    expect(await keys(uploads(), `files/${other.id}/`)).toHaveLength(1);
    expect(await keys(uploads(), `files/${longer.id}/`)).toHaveLength(1);
    for (const k of kept) expect(await results().head(k)).not.toBeNull();
    for (const url of urls) {
      const res = await gwWith(R2, url.slice(GATEWAY.length));
      expect(res.status).toBe(404);
      expect(await res.json()).toMatchObject({ error: { code: "not_found" } });
    }
    expect((await gwWith(R2, otherUrl.slice(GATEWAY.length))).status).toBe(200);
  });

  it("a URL minted before the deletion stays 404 even when its bytes are stored again, and after the tenant is re-created", async () => {
    const t = await createTenant();
    const url = await uploadUrl(t);
    const key = (await keys(uploads(), `files/${t.id}/`))[0]!;
    expect((await del(t.id)).status).toBe(204);
    // As an upload that raced the deletion past its last pass would leave them.
    await uploads().put(key, mp4(2000), { httpMetadata: { contentType: "video/mp4" } });
    expect((await gwWith(R2, url.slice(GATEWAY.length))).status).toBe(404);
    expect((await admin(`/admin/tenants/${t.id}`, { method: "PUT", json: t.input })).status).toBe(201);
    expect((await gwWith(R2, url.slice(GATEWAY.length))).status).toBe(404);
    const fresh = await uploadUrl(t);
    expect((await gwWith(R2, fresh.slice(GATEWAY.length))).status).toBe(200);
    await uploads().delete(key);
  });

  it("answers 202 while keys remain, keeps the tenant, and the next DELETE carries on to 204", async () => {
    const t = await createTenant();
    const url = await uploadUrl(t);
    await putResults(t.id, await incarnationOf(t.id), 45);
    // R2 answering 2 keys a page: the call's 20 pages (WIPE_MAX_PAGES) are the upload's, then 19 of results.
    const vars = { RESULTS: smallPages(results(), 2), UPLOADS: smallPages(uploads(), 2) };

    const first = await del(t.id, vars);
    expect(first.status).toBe(202);
    expect(await first.json()).toEqual({ status: "deleting", deleted: 39 });
    // Not done, so not deleted: the record and its tokens stay until the 204.
    expect((await admin(`/admin/tenants/${t.id}`)).status).toBe(200);
    expect((await gw("/v1/usage", bearer(await t.token({ sub: null })))).status).toBe(200);
    expect(await keys(uploads(), `files/${t.id}/`)).toEqual([]);
    expect(await keys(results(), `results/${t.id}/`)).toHaveLength(7);

    expect((await del(t.id, vars)).status).toBe(204);
    expect(await keys(results(), `results/${t.id}/`)).toEqual([]);
    expect((await admin(`/admin/tenants/${t.id}`)).status).toBe(404);
    expect((await gwWith(R2, url.slice(GATEWAY.length))).status).toBe(404);
  });

  it("works without either bucket bound", async () => {
    const t = await createTenant();
    await putResults(t.id, await incarnationOf(t.id), 1);
    expect((await del(t.id, { RESULTS: undefined, UPLOADS: undefined })).status).toBe(204);
    // Unbound, so untouched: a deployment without the bucket has no keys there to delete.
    expect(await keys(results(), `results/${t.id}/`)).toHaveLength(1);
  });

  it("a deletion cut off half-way through its pages is finished by calling it again", async () => {
    const t = await createTenant();
    await putResults(t.id, await incarnationOf(t.id), 7);
    let pages = 0;
    // The Worker dies on the second page (a deploy, a limit): the first page's keys are gone, the rest not.
    const dying = new Proxy(results(), {
      get(target, prop) {
        if (prop === "delete")
          return (k: string[]) => {
            if (++pages === 2) throw new Error("cut off");
            return target.delete(k);
          };
        const v: unknown = Reflect.get(target, prop);
        return typeof v === "function" ? v.bind(target) : v;
      },
    });
    const cut = endIncarnation(
      {
        registry: registry(env),
        object: (ref) => tenantObject(env, ref),
        forget: (tenant) => forgetTenant(tenant.auth.issuer),
        wipeBuckets: (id) =>
          wipePrefixes([{ bucket: dying, prefix: `results/${id}/` }], { pageKeys: 3, maxPages: 20 }),
      },
      t.id,
      true,
    );
    await expect(cut).rejects.toThrow("cut off");
    expect(await keys(results(), `results/${t.id}/`)).toHaveLength(4);
    expect((await admin(`/admin/tenants/${t.id}`)).status).toBe(200);

    expect((await del(t.id)).status).toBe(204);
    expect(await keys(results(), `results/${t.id}/`)).toEqual([]);
    expect((await admin(`/admin/tenants/${t.id}`)).status).toBe(404);
  });
});

describe("wipePrefixes", () => {
  const target = (bucket: R2Bucket, prefix: string): BucketPrefix => ({ bucket, prefix });

  it("deletes page by page, at most maxPages a call, and reports complete only when nothing is left", async () => {
    const id = `wipe-${crypto.randomUUID().slice(0, 8)}`;
    await putResults(id, "lifeaaaaaaaaaaaa", 25);
    await uploads().put(`files/${id}/file_a`, "a");
    await uploads().put(`files/${id}2/file_b`, "b"); // another tenant's prefix, sharing the text
    const targets = [target(uploads(), `files/${id}/`), target(results(), `results/${id}/`)];
    const limits = { pageKeys: 10, maxPages: 2 };

    // Page 1: the one upload (listing ended); page 2: 10 results; out of pages.
    expect(await wipePrefixes(targets, limits)).toEqual({ deleted: 11, complete: false });
    expect(await keys(results(), `results/${id}/`)).toHaveLength(15);
    expect(await wipePrefixes(targets, limits)).toEqual({ deleted: 10, complete: false });
    // Page 1: the empty uploads prefix; page 2: the last 5, with nothing after them.
    expect(await wipePrefixes(targets, limits)).toEqual({ deleted: 5, complete: true });
    expect(await wipePrefixes(targets, limits)).toEqual({ deleted: 0, complete: true });
    expect(await keys(results(), `results/${id}/`)).toEqual([]);
    expect(await uploads().head(`files/${id}2/file_b`)).not.toBeNull();
    await uploads().delete(`files/${id}2/file_b`);
  });

  it("uses R2's largest pages by default", async () => {
    const id = `wipe-${crypto.randomUUID().slice(0, 8)}`;
    await putResults(id, "lifeaaaaaaaaaaaa", 3);
    const asked: number[] = [];
    const spy = new Proxy(results(), {
      get(t, prop) {
        if (prop === "list")
          return (o: R2ListOptions) => {
            asked.push(o.limit ?? 0);
            return t.list(o);
          };
        const v: unknown = Reflect.get(t, prop);
        return typeof v === "function" ? v.bind(t) : v;
      },
    });
    expect(await wipePrefixes([target(spy, `results/${id}/`)])).toEqual({ deleted: 3, complete: true });
    expect(asked).toEqual([1000]);
  });
});
