// Idempotency-Key on POST /v1/videos/generations: replays of the first answer, conflicts, concurrent
// duplicates that never reach the upstream, retries after a failed forward that reuse the upstream's own
// idempotency key (so a task the upstream did create is not created twice), scoping and expiry.
import { env } from "cloudflare:workers";
import { evictDurableObject } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { IDEMPOTENCY_TTL_MS } from "../../src/config/constants";
import { requestHash, upstreamIdempotencyKey } from "../../src/idempotency/keys";
import { UPSTREAM_HOST, VALID_BODY, admin, startSimulator } from "../helpers/gateway";
import { callsTo, route } from "../helpers/outbound";
import { objectOf } from "../helpers/objects";
import { BODY_CREDITS, admitAt, generate, quotaTenant, uniqueTenantId, usage } from "./helpers";

const posts = () => callsTo(UPSTREAM_HOST).filter((c) => c.method === "POST");
const key = (k: string) => ({ "idempotency-key": k });

describe("replays", () => {
  it("the same key and body returns the first response, calls the upstream once and counts once", async () => {
    startSimulator();
    const t = await quotaTenant({ requests_per_minute: 1 });
    const first = await generate(t, { headers: key("order-1") });
    expect(first.status).toBe(200);
    expect(first.headers.get("idempotency-replayed")).toBeNull();
    const firstBody = await first.json();

    // Same JSON in another key order; the rate limit of 1 is not hit by a replay.
    const reordered = {
      video_urls: VALID_BODY.video_urls,
      prompt: VALID_BODY.prompt,
      model: VALID_BODY.model,
    };
    const again = await generate(t, { headers: key("order-1"), body: reordered });
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotency-replayed")).toBe("true");
    expect(await again.json()).toEqual(firstBody);
    expect(posts()).toHaveLength(1);
    expect((await usage(t, null)).tenant).toMatchObject({
      requests_per_minute: { used: 1 },
      monthly_credits: { reserved: BODY_CREDITS },
    });
  });

  it("the same key with a different body is 409 idempotency_conflict", async () => {
    startSimulator();
    const t = await quotaTenant();
    expect((await generate(t, { headers: key("order-2") })).status).toBe(200);
    const res = await generate(t, { headers: key("order-2"), body: { ...VALID_BODY, duration: 6 } });
    expect(res.status).toBe(409);
    expect(await res.json()).toMatchObject({
      error: { code: "idempotency_conflict", type: "conflict_error", param: "Idempotency-Key" },
    });
    expect(posts()).toHaveLength(1);
  });

  it("keys are per user: two users may use the same key for different requests", async () => {
    startSimulator();
    const t = await quotaTenant();
    const a = await generate(t, { sub: "alice", headers: key("k-1") });
    const b = await generate(t, { sub: "bob", headers: key("k-1"), body: { ...VALID_BODY, duration: 3 } });
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(b.headers.get("idempotency-replayed")).toBeNull();
    expect(posts()).toHaveLength(2);
    const [ka, kb] = posts().map((p) => p.headers["idempotency-key"]);
    expect(ka).not.toBe(kb);
  });

  it.each([
    ["an empty key", ""],
    ["a key of 256 characters", "k".repeat(256)],
    ["a space", "order 1"],
    ["a tab", "order\t1"],
  ])("refuses %s with 400 before anything else", async (_l, value) => {
    startSimulator();
    const t = await quotaTenant();
    const res = await generate(t, { headers: key(value) });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: { code: "invalid_request", param: "Idempotency-Key" } });
    expect(posts()).toHaveLength(0);
  });

  it("accepts 1 to 255 visible ASCII characters", async () => {
    startSimulator();
    const t = await quotaTenant();
    for (const k of ["x", "~".repeat(255), "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"])
      expect((await generate(t, { headers: key(k) })).status).toBe(200);
  });
});

describe("concurrent duplicates", () => {
  it("exactly one reaches the upstream; the others wait and get its answer", async () => {
    const { sim } = startSimulator();
    sim.inject({ createDelayMs: 300 });
    const t = await quotaTenant({ max_concurrent_tasks: 5 });
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => generate(t, { headers: key("burst-1") })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(10).fill(200));
    const bodies = await Promise.all(responses.map((r) => r.json() as Promise<{ id: string }>));
    expect(new Set(bodies.map((b) => b.id)).size).toBe(1);
    expect(responses.filter((r) => r.headers.get("idempotency-replayed") === "true")).toHaveLength(9);
    expect(posts()).toHaveLength(1);
    expect(sim.tasks()).toHaveLength(1);
    expect((await usage(t, null)).tenant.concurrent_tasks).toMatchObject({ active: 1, remaining: 4 });
  });

  it("when the first fails, its waiting duplicates get the same error, without calling the upstream", async () => {
    const { sim } = startSimulator();
    sim.inject({ createDelayMs: 200, create: { status: 500, count: 1 } });
    const t = await quotaTenant();
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => generate(t, { headers: key("burst-2") })),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(5).fill(502));
    expect(responses.filter((r) => r.headers.get("idempotency-replayed") === "true")).toHaveLength(4);
    for (const r of responses) expect(await r.json()).toMatchObject({ error: { code: "upstream_error" } });
    expect(posts()).toHaveLength(1);
  });
});

describe("the upstream's idempotency key", () => {
  it("is derived from tenant, user and key: 16–96 of [A-Za-z0-9._-], never the client's key", async () => {
    startSimulator();
    const a = await quotaTenant();
    const b = await quotaTenant();
    await generate(a, { headers: key("client-key-1") });
    await generate(b, { headers: key("client-key-1") });
    await generate(a, { sub: "other", headers: key("client-key-1") });
    await generate(a, { headers: key("client-key-2") });
    const sent = posts().map((p) => p.headers["idempotency-key"]!);
    for (const k of sent) {
      expect(k).toMatch(/^rg\.[a-z2-7]{52}$/);
      expect(k).toMatch(/^[A-Za-z0-9._-]{16,96}$/);
      expect(k).not.toContain("client-key");
    }
    expect(new Set(sent).size).toBe(4);
  });

  it("is not sent without an Idempotency-Key", async () => {
    startSimulator();
    const t = await quotaTenant();
    await generate(t);
    expect(posts()[0]!.headers["idempotency-key"]).toBeUndefined();
  });

  it("takes over a key whose attempt died with the object (a crash): answered at once, with the same upstream key", async () => {
    startSimulator();
    const t = await quotaTenant({ max_concurrent_tasks: 1 });
    const claim = { key: "crash-1", hash: await requestHash(VALID_BODY) };
    // An attempt admitted (its task `creating`, its slot and credits held, the key `in_progress`) ...
    const first = await admitAt(t.id, Date.now(), { key: claim });
    expect(first).toMatchObject({ kind: "admitted" });
    // ... holds the key while its instance lives: a duplicate waits for it.
    expect((await admitAt(t.id, Date.now(), { key: claim })).kind).toBe("in_progress");
    // The crash: the instance goes, with the attempt; storage stays, the key still `in_progress`.
    await evictDurableObject(await objectOf(t.id));

    // The client retries with the same key: not "still being processed" until the sweeper's abort, but
    // the same task row and upstream key again — an upstream task the dead attempt did create would be
    // answered again (see the next test), never created twice.
    const retried = await generate(t, { headers: key(claim.key) });
    expect(retried.status).toBe(200);
    const secret = env.SIGNING_SECRET as string;
    const epoch = (first as { idempotencyEpoch: number }).idempotencyEpoch;
    expect(posts().map((p) => p.headers["idempotency-key"])).toEqual([
      await upstreamIdempotencyKey(secret, t.id, "user-1", claim.key, epoch),
    ]);
    expect((await usage(t, null)).tenant).toMatchObject({
      concurrent_tasks: { active: 1 },
      monthly_credits: { reserved: BODY_CREDITS },
    });
    const ledger = (await (await admin(`/admin/tenants/${t.id}/usage`)).json()) as { tasks: unknown[] };
    expect(ledger.tasks).toHaveLength(1); // the one row, taken over
    const again = await generate(t, { headers: key(claim.key) });
    expect(again.headers.get("idempotency-replayed")).toBe("true");
    expect(await again.json()).toEqual(await retried.json());
  });

  it("makes a retried forward replay the task the upstream already created, instead of a second one", async () => {
    const { sim } = startSimulator();
    const t = await quotaTenant({ max_concurrent_tasks: 1 });
    // The upstream creates the task but its answer is lost on the way back.
    let lose = true;
    route(UPSTREAM_HOST, async (req) => {
      const res = await sim.fetch(req);
      if (req.method === "POST" && lose) {
        lose = false;
        return new Response("bad gateway", { status: 502 });
      }
      return res;
    });
    const failed = await generate(t, { headers: key("retry-1") });
    expect(failed.status).toBe(502);
    expect(sim.tasks()).toHaveLength(1);
    // The slot was released; the client retries with the same key and body.
    const retried = await generate(t, { headers: key("retry-1") });
    expect(retried.status).toBe(200);
    expect(retried.headers.get("idempotency-replayed")).toBeNull();
    expect(sim.tasks()).toHaveLength(1);
    const [p1, p2] = posts();
    expect(p2!.headers["idempotency-key"]).toBe(p1!.headers["idempotency-key"]);
    expect(p2!.body).toBe(p1!.body);
    expect(sim.requests.filter((r) => r.method === "POST")).toHaveLength(2);
    expect((await usage(t, null)).tenant.concurrent_tasks).toMatchObject({ active: 1 });
    // From now on the key replays the successful answer.
    const third = await generate(t, { headers: key("retry-1") });
    expect(third.headers.get("idempotency-replayed")).toBe("true");
    expect(await third.json()).toEqual(await retried.json());
  });
});

describe("records and their lifetime (clock injected)", () => {
  it("a key is remembered 24 hours; after that the same key is a new request with a new upstream key", async () => {
    const id = uniqueTenantId();
    const T0 = Date.UTC(2026, 3, 1);
    const claim = { key: "daily-report", hash: await requestHash(VALID_BODY) };
    const first = await admitAt(id, T0, { key: claim });
    expect(first).toMatchObject({ kind: "admitted", idempotencyEpoch: T0 });
    expect((await admitAt(id, T0 + 3600_000, { key: claim })).kind).toBe("in_progress");
    expect((await admitAt(id, T0 + IDEMPOTENCY_TTL_MS - 1, { key: claim })).kind).toBe("in_progress");
    const later = await admitAt(id, T0 + IDEMPOTENCY_TTL_MS, { key: claim });
    expect(later).toMatchObject({ kind: "admitted", idempotencyEpoch: T0 + IDEMPOTENCY_TTL_MS });
    const secret = env.SIGNING_SECRET as string;
    expect(await upstreamIdempotencyKey(secret, id, "user-1", claim.key, T0)).not.toBe(
      await upstreamIdempotencyKey(secret, id, "user-1", claim.key, T0 + IDEMPOTENCY_TTL_MS),
    );
  });

  it("a request refused by a quota leaves no record: the key is free once the limit allows", async () => {
    const id = uniqueTenantId();
    const T0 = Date.UTC(2026, 3, 1);
    const limits = { tenant: { requests_per_minute: 1 } };
    expect((await admitAt(id, T0, limits)).kind).toBe("admitted");
    const claim = { key: "k", hash: "h" };
    expect((await admitAt(id, T0 + 1000, { ...limits, key: claim })).kind).toBe("refused");
    expect((await admitAt(id, T0 + 60_000, { ...limits, key: { key: "k", hash: "other" } })).kind).toBe(
      "admitted",
    );
  });
});
