// The Registry as the one writer of tenant records: concurrent admin writes of one tenant lose nothing and
// leave KV (record and issuer index) in agreement with its SQLite; versions rise and reach KV in order;
// the incarnation is the server's; a stale KV copy is recognised; the admin list searches and pages.
import { runDurableObjectAlarm, runInDurableObject } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { TENANT_CACHE_TTL_MS } from "../../src/config/constants";
import { registry } from "../../src/tenants/registry-client";
import { findTenantByIssuer } from "../../src/tenants/lookup";
import { createTenant, hsTenant, type TenantFixture } from "../fixtures/tenants";
import { admin } from "../helpers/gateway";

type View = { id: string; name: string; incarnation: string; version: number; auth: { issuer: string } };

const put = (t: TenantFixture, body: Record<string, unknown>) =>
  admin(`/admin/tenants/${t.id}`, { method: "PUT", json: body });
const rotate = (id: string) => admin(`/admin/tenants/${id}/webhook-secret/rotate`, { method: "POST" });
const read = async (id: string) => (await (await admin(`/admin/tenants/${id}`)).json()) as View;
const kvRecord = (id: string) => env.KV.get(`tenant:${id}`, "json") as Promise<Record<string, any> | null>;

function registryIssuers(tenantId: string): Promise<string[]> {
  const stub = env.REGISTRY.get(env.REGISTRY.idFromName("registry"));
  return runInDurableObject(stub, (_o, s: DurableObjectState) =>
    s.storage.sql
      .exec<{ issuer: string }>("SELECT issuer FROM issuers WHERE tenant_id = ?", tenantId)
      .toArray()
      .map((r) => r.issuer),
  );
}

describe("one writer: concurrent admin writes", () => {
  it("a rotation concurrent with a PUT loses neither change", async () => {
    const t = await createTenant(hsTenant());
    for (let round = 1; round <= 8; round++) {
      const [putRes, rotRes] = await Promise.all([
        put(t, { ...t.input, name: `round ${round}` }),
        rotate(t.id),
      ]);
      expect(putRes.status).toBe(200);
      expect(rotRes.status).toBe(200);
      const secret = ((await rotRes.json()) as { webhook: { secret: string } }).webhook.secret;
      const stored = await kvRecord(t.id);
      expect(stored?.name).toBe(`round ${round}`);
      expect(stored?.webhook.secret).toBe(secret);
      const authoritative = await read(t.id);
      expect(authoritative.name).toBe(`round ${round}`);
      expect(stored?.version).toBe(authoritative.version);
    }
  });

  it("two concurrent PUTs with different issuers leave the KV record, KV index and issuer table agreeing", async () => {
    const t = await createTenant(hsTenant());
    const left: string[] = [t.issuer];
    for (let round = 1; round <= 6; round++) {
      const issuers = [`https://a${round}.${t.id}.example/`, `https://b${round}.${t.id}.example/`];
      const statuses = await Promise.all(
        issuers.map(async (issuer) => {
          const res = await put(t, { ...t.input, auth: { ...(t.input.auth as object), issuer } });
          return res.status;
        }),
      );
      expect(statuses).toEqual([200, 200]);
      const winner = (await read(t.id)).auth.issuer;
      expect(issuers).toContain(winner);
      expect((await kvRecord(t.id))?.auth.issuer).toBe(winner);
      expect(await env.KV.get(`issuer:${winner}`)).toBe(t.id);
      expect(await registryIssuers(t.id)).toEqual([winner]);
      left.push(...issuers.filter((i) => i !== winner));
      for (const old of left) expect(await env.KV.get(`issuer:${old}`)).toBeNull();
    }
    // The issuers it left are free for another tenant.
    const other = hsTenant({ auth: { ...(t.input.auth as object), issuer: left.at(-1) } });
    expect((await put(other, other.input)).status).toBe(201);
  });

  it("many concurrent PUTs: KV ends at the highest version, the one SQLite holds", async () => {
    const t = await createTenant(hsTenant());
    const results = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => {
        const res = await put(t, { ...t.input, name: `name ${i}` });
        expect(res.status).toBe(200);
        return (await res.json()) as View;
      }),
    );
    const highest = results.reduce((a, b) => (b.version > a.version ? b : a));
    const authoritative = await read(t.id);
    expect(authoritative.version).toBe(highest.version);
    expect(authoritative.name).toBe(highest.name);
    const stored = await kvRecord(t.id);
    expect(stored).toMatchObject({ version: highest.version, name: highest.name });
    const listed = await env.KV.list<{ version: number }>({ prefix: `tenant:${t.id}` });
    expect(listed.keys[0]?.metadata?.version).toBe(highest.version);
    expect(new Set(results.map((r) => r.version)).size).toBe(20);
    expect(await registry(env).replicaVersion(t.id)).toBe(highest.version);
  });

  it("a copy to KV that was interrupted is finished by the Registry's alarm", async () => {
    const t = await createTenant(hsTenant());
    const stub = env.REGISTRY.get(env.REGISTRY.idFromName("registry"));
    // Caught up: no alarm is left armed.
    expect(await runInDurableObject(stub, (_o, s: DurableObjectState) => s.storage.getAlarm())).toBeNull();
    // A write committed to SQLite whose copy never ran (the object was evicted right after the commit).
    const version = await runInDurableObject(stub, (_o, s: DurableObjectState) => {
      const row = s.storage.sql
        .exec<{ record: string; version: number }>("SELECT record, version FROM tenants WHERE id = ?", t.id)
        .one();
      const next = row.version + 1000;
      const record = { ...JSON.parse(row.record), name: "Committed, not copied", version: next };
      s.storage.sql.exec(
        "UPDATE tenants SET record = ?, version = ?, name = ? WHERE id = ?",
        JSON.stringify(record),
        next,
        record.name,
        t.id,
      );
      s.storage.sql.exec("UPDATE registry_seq SET version = ? WHERE one = 1", next);
      void s.storage.setAlarm(Date.now() + 5_000);
      return next;
    });
    expect((await kvRecord(t.id))?.name).not.toBe("Committed, not copied");
    expect(await runDurableObjectAlarm(stub)).toBe(true);
    expect(await kvRecord(t.id)).toMatchObject({ name: "Committed, not copied", version });
    expect(await runInDurableObject(stub, (_o, s: DurableObjectState) => s.storage.getAlarm())).toBeNull();
  });
});

describe("incarnation and version", () => {
  it("are set by the server: a new incarnation on creation, kept by PUT and rotation; versions rise", async () => {
    const t = hsTenant();
    const created = (await (await put(t, t.input)).json()) as View;
    expect(created.incarnation).toMatch(/^[a-z2-7]{16}$/);
    const replaced = (await (await put(t, { ...t.input, name: "Renamed" })).json()) as View;
    const rotated = (await (await rotate(t.id)).json()) as View;
    expect(replaced.incarnation).toBe(created.incarnation);
    expect(rotated.incarnation).toBe(created.incarnation);
    expect(replaced.version).toBeGreaterThan(created.version);
    expect(rotated.version).toBeGreaterThan(replaced.version);
    expect(await read(t.id)).toMatchObject({ incarnation: created.incarnation, version: rotated.version });

    for (const field of ["incarnation", "version"]) {
      const res = await put(t, { ...t.input, [field]: field === "version" ? 999 : "aaaaaaaaaaaaaaaa" });
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_request", param: field } });
    }
  });

  it("the request path keeps the newer copy when KV serves an older one (same incarnation)", async () => {
    const t = await createTenant(hsTenant());
    const old = await kvRecord(t.id);
    await put(t, { ...t.input, name: "Newer" });
    const at = Date.now() + 3_600_000;
    const first = await findTenantByIssuer(env, t.issuer, at);
    expect(first).toMatchObject({ name: "Newer" });
    // An older write landing late, or a location's cached copy: KV now serves the lower version.
    await env.KV.put(`tenant:${t.id}`, JSON.stringify(old));
    const later = await findTenantByIssuer(env, t.issuer, at + TENANT_CACHE_TTL_MS + 1);
    expect(later).toMatchObject({ name: "Newer", version: first!.version });
    // A genuinely newer copy replaces it.
    await put(t, { ...t.input, name: "Newest" });
    const newest = await findTenantByIssuer(env, t.issuer, at + 2 * TENANT_CACHE_TTL_MS + 2);
    expect(newest).toMatchObject({ name: "Newest" });
    expect(newest!.version).toBeGreaterThan(first!.version);
  });
});

describe("GET /admin/tenants (from the Registry)", () => {
  it("searches id, name and issuer with ?q= (any case) and pages with limit and cursor", async () => {
    const tag = `zq${crypto.randomUUID().slice(0, 6)}`;
    const a = await createTenant(hsTenant({ name: `Acme ${tag.toUpperCase()}` }));
    const b = await createTenant(hsTenant({}, `${tag}-tenant`));
    const c = hsTenant();
    await createTenant(
      hsTenant({ auth: { ...(c.input.auth as object), issuer: `https://idp.example/${tag}/` } }, c.id),
    );
    await createTenant(hsTenant());
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await admin(`/admin/tenants?q=${tag}&limit=2${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      const page = (await res.json()) as { data: View[]; cursor: string | null };
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((d) => d.id));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual([a.id, b.id, c.id].sort());

    for (const query of ["cursor=Not%20An%20Id", `q=${"x".repeat(201)}`, "limit=0"]) {
      const res = await admin(`/admin/tenants?${query}`);
      expect(res.status).toBe(400);
    }
  });
});
