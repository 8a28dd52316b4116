// No way out of the tenant: 1,000 requests to the portal API with a token of tenant A that has every
// capability, each with an id that is not A's — B's real task, delivery and file ids, B's tenant id and A's own
// ids mutated, in paths and in bodies — and each answers the one 404 `not_found`, byte for byte the same
// error. B is left as it was: its record unchanged, no redelivery of its events.
import { describe, expect, it } from "vitest";
import { admin, startSimulator } from "../helpers/gateway";
import { deliveries } from "../callbacks/helpers";
import { ALL_CAPABILITIES, papi, portalLink, stockedTenant, UNLIMITED } from "./helpers";

/** A small deterministic PRNG (mulberry32), so a failing case can be replayed. */
function rng(seed: number) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const ALPHABET = "abcdefghijklmnopqrstuvwxyz234567ABCDEFXYZ0189-_.~";

/** One mutation of `id`: a character changed, cut, added, swapped case, or a known id spliced in. */
function mutate(id: string, next: () => number, splice: string[]): string {
  const at = Math.floor(next() * id.length);
  const ch = ALPHABET[Math.floor(next() * ALPHABET.length)]!;
  switch (Math.floor(next() * 7)) {
    case 0:
      return id.slice(0, at) + ch + id.slice(at + 1);
    case 1:
      return id.slice(0, Math.max(1, at));
    case 2:
      return id + ch;
    case 3:
      return id.toUpperCase();
    case 4:
      return splice[Math.floor(next() * splice.length)]!;
    case 5:
      return `${id.slice(0, at)}${splice[Math.floor(next() * splice.length)]!.slice(at)}`;
    default:
      return `${ch}${id.slice(1)}`;
  }
}

describe("the portal API's 1,000 mutated ids", () => {
  it("every id outside the token's tenant is the uniform 404 not_found", { timeout: 240_000 }, async () => {
    const harness = startSimulator();
    const a = await stockedTenant(harness, "hooks.fuzz-a.example");
    const b = await stockedTenant(harness, "hooks.fuzz-b.example");
    const { token } = await portalLink(a.id, { capabilities: ALL_CAPABILITIES });
    const bBefore = await (await admin(`/admin/tenants/${b.id}`)).json<any>();

    const foreign = [b.taskId, b.deliveryId, b.fileId, b.id];
    const own = [a.taskId, a.deliveryId, a.fileId, a.id];
    const next = rng(16);
    const idOf = () => {
      const pool = next() < 0.5 ? foreign : own;
      const base = pool[Math.floor(next() * pool.length)]!;
      return pool === foreign && next() < 0.5 ? base : mutate(base, next, [...foreign, ...own]);
    };
    const otherTenant = () => {
      const id = next() < 0.3 ? b.id : mutate(next() < 0.5 ? a.id : b.id, next, [b.id, "nobody-here"]);
      return id === a.id || id === "." || id === ".." ? b.id : id;
    };
    const enc = encodeURIComponent;
    const tenantRoutes: [string, string, unknown?][] = [
      ["GET", "/session"],
      ["GET", "/usage"],
      ["GET", "/tasks"],
      ["GET", "/deliveries"],
      ["GET", "/webhook"],
      ["GET", "/uploads"],
      ["PUT", "/webhook", { url: "https://hooks.fuzz-a.example/taken" }],
      ["POST", "/webhook/rotate-secret"],
    ];

    const cases: { method: string; path: string; json?: unknown }[] = [];
    while (cases.length < 1_000) {
      const kind = Math.floor(next() * 4);
      if (kind === 0) {
        // A task id that is not A's, in A's path.
        const id = idOf();
        if (id === a.taskId || id === "." || id === "..") continue;
        cases.push({ method: "GET", path: `/${a.id}/tasks/${enc(id)}` });
      } else if (kind === 1) {
        // A delivery id that is not A's, with a body that names the other tenant.
        const id = idOf();
        if (id === a.deliveryId || id === "." || id === "..") continue;
        const json = next() < 0.5 ? { tenant_id: b.id, delivery_id: id } : undefined;
        cases.push({ method: "POST", path: `/${a.id}/deliveries/${enc(id)}/redeliver`, json });
      } else if (kind === 2) {
        // Another tenant's id in the path of every route, A's own ids after it.
        const [method, rest, json] = tenantRoutes[Math.floor(next() * tenantRoutes.length)]!;
        cases.push({ method, path: `/${enc(otherTenant())}${rest}`, json });
      } else {
        // Another tenant's id in the path, with B's or A's own task and delivery ids after it, bodies naming B.
        const t = otherTenant();
        cases.push(
          next() < 0.5
            ? { method: "GET", path: `/${enc(t)}/tasks/${enc(next() < 0.5 ? a.taskId : b.taskId)}` }
            : {
                method: "POST",
                path: `/${enc(t)}/deliveries/${enc(next() < 0.5 ? a.deliveryId : b.deliveryId)}/redeliver`,
                json: { tenant_id: b.id },
              },
        );
      }
    }
    // Ids must never be A's own (a case that is A's own path and id would rightly succeed).
    const ownPaths = [`/${a.id}/tasks/${a.taskId}`, `/${a.id}/deliveries/${a.deliveryId}/redeliver`];
    for (const c of cases) expect(ownPaths).not.toContain(c.path);

    const bodies = new Set<string>();
    const statuses = new Map<number, number>();
    for (const c of cases) {
      // 1,000 calls are more than the portal's limit (100 per 10 s, tested in portal.test.ts): not counted here.
      const res = await papi(token, c.path, { method: c.method, json: c.json, vars: UNLIMITED });
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      const text = await res.text();
      if (res.status !== 404) throw new Error(`${c.method} ${c.path} → ${res.status} ${text}`);
      bodies.add(text);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 404: 1_000 });
    expect([...bodies].map((t) => JSON.parse(t))).toEqual([
      { error: { code: "not_found", message: "Not found", type: "not_found_error" } },
    ]);

    // Nothing happened to B: its record is the same version, and no event of its was sent again.
    const bAfter = await (await admin(`/admin/tenants/${b.id}`)).json<any>();
    expect(bAfter.version).toBe(bBefore.version);
    expect(bAfter.webhook).toEqual(bBefore.webhook);
    expect((await deliveries(b.id)).filter((d) => d.redelivery)).toEqual([]);
    // …while the same token does act on A (the fuzz was not refused wholesale).
    const mine = await papi(token, `/${a.id}/deliveries/${a.deliveryId}/redeliver`, { method: "POST" });
    expect(mine.status).toBe(202);
  });
});
