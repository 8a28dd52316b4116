// Kept results, black-box through the real app: results become the gateway's signed URLs the moment a task
// ends, the tenant object's alarm copies them into R2, and the URLs serve the video like a file (Range, HEAD,
// 304, 416) long after the upstream's link has died. Retention 0 passes the upstream's links through; a
// forged, altered or foreign URL is the uniform 404.
import { env } from "cloudflare:workers";
import { runDurableObjectAlarm } from "cloudflare:test";
import { describe, expect, it } from "vitest";
import { eventually } from "../callbacks/helpers";
import { admin, GATEWAY, gw, startSimulator } from "../helpers/gateway";
import { objectOf } from "../helpers/objects";
import {
  BYTES,
  completed,
  inObject,
  keysUnder,
  mediaGets,
  pathOf,
  read,
  storedIs,
  tenantWith,
  upstreamBytes,
} from "./helpers";

const DAY = 86_400_000;

describe("kept results", () => {
  it("an ended task's results are gateway URLs that serve the upstream's bytes, from R2 after its link died", async () => {
    const t = await tenantWith();
    const c = await completed(t);
    expect(c.results).toHaveLength(1);
    const url = c.results[0]!;
    expect(url.startsWith(`${GATEWAY}/results/`)).toBe(true);
    expect(url.endsWith("/video-1.mp4")).toBe(true);
    const expected = await upstreamBytes(c.h, c.link);
    await storedIs(t, c.id, true);

    // The simulator's link expires (24 h on its clock): the kept copy still serves, byte for byte.
    await c.h.clock.advance(25 * 3_600_000);
    expect((await c.h.sim.fetch(new Request(c.link))).status).toBe(403);
    const res = await gw(pathOf(url));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("video/mp4");
    expect(res.headers.get("accept-ranges")).toBe("bytes");
    expect(res.headers.get("content-length")).toBe(String(BYTES));
    expect(res.headers.get("cache-control")).toMatch(/^private, max-age=\d+$/);
    const maxAge = Number(/max-age=(\d+)/.exec(res.headers.get("cache-control")!)![1]);
    expect(maxAge).toBeGreaterThan(29 * 86_400);
    expect(maxAge).toBeLessThanOrEqual(30 * 86_400);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(expected);

    // The stored object records its size, type and checksum (R2's MD5 of what it stored).
    const [row] = await inObject(t.id, (sql) =>
      sql.exec("SELECT state, bytes, content_type, md5 FROM results").toArray(),
    );
    const digest = new Uint8Array(await crypto.subtle.digest("MD5", expected));
    expect(row).toEqual({
      state: "stored",
      bytes: BYTES,
      content_type: "video/mp4",
      md5: [...digest].map((b) => b.toString(16).padStart(2, "0")).join(""),
    });
  });

  it("serves Range (206), HEAD, If-None-Match (304), an unsatisfiable range (416) and ?download=1", async () => {
    const t = await tenantWith();
    const c = await completed(t);
    await storedIs(t, c.id, true);
    const path = pathOf(c.results[0]!);
    const whole = new Uint8Array(await (await gw(path)).arrayBuffer());

    const part = await gw(path, { headers: { range: "bytes=100-199" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 100-199/${BYTES}`);
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(whole.subarray(100, 200));

    const open = await gw(path, { headers: { range: `bytes=${BYTES - 10}-` } });
    expect(open.status).toBe(206);
    expect(new Uint8Array(await open.arrayBuffer())).toEqual(whole.subarray(BYTES - 10));

    const suffix = await gw(path, { headers: { range: "bytes=-8" } });
    expect(suffix.status).toBe(206);
    expect(new Uint8Array(await suffix.arrayBuffer())).toEqual(whole.subarray(BYTES - 8));

    const head = await gw(path, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String(BYTES));
    const etag = head.headers.get("etag");
    expect(etag).toBeTruthy();
    expect(await head.text()).toBe("");

    const again = await gw(path, { headers: { "if-none-match": etag! } });
    expect(again.status).toBe(304);

    const past = await gw(path, { headers: { range: `bytes=${BYTES}-` } });
    expect(past.status).toBe(416);
    expect(past.headers.get("content-range")).toBe(`bytes */${BYTES}`);

    const download = await gw(`${path}?download=1`);
    expect(download.headers.get("content-disposition")).toBe('attachment; filename="video-1.mp4"');
    await download.arrayBuffer();
  });

  it("works before the copy is done: streamed from the upstream's link, Range passed on; 404 once that link is dead", async () => {
    const t = await tenantWith();
    const h = startSimulator();
    h.sim.inject({ media: { status: 503 } }); // every copy attempt fails (and is retried later)
    const c = await completed(t, h);
    const path = pathOf(c.results[0]!);
    await eventually(() => expect(h.sim.requests.some((r) => r.path.startsWith("/media/"))).toBe(true));
    await storedIs(t, c.id, false);
    h.sim.inject({ media: null });

    const expected = await upstreamBytes(h, c.link);
    const part = await gw(path, { headers: { range: "bytes=0-15" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe(`bytes 0-15/${BYTES}`);
    expect(part.headers.get("cache-control")).toBe("private, no-store");
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(expected.subarray(0, 16));

    // The link dies before any copy succeeded: the URL is the uniform 404.
    await h.clock.advance(25 * 3_600_000);
    const dead = await gw(path);
    expect(dead.status).toBe(404);
    expect(await dead.json()).toEqual({
      error: {
        code: "result_not_found",
        message: "The requested result could not be found",
        type: "not_found_error",
      },
    });
  });

  it("a failed copy is retried with backoff and then kept", async () => {
    const t = await tenantWith();
    const h = startSimulator();
    h.sim.inject({ media: { status: 500, count: 1 } });
    const c = await completed(t, h);
    await eventually(async () => {
      const [row] = await inObject(t.id, (sql) =>
        sql.exec("SELECT attempts, next_at FROM results").toArray(),
      );
      expect(row!.attempts).toBe(1);
      expect(row!.next_at as number).toBeGreaterThan(Date.now() + 3_000);
    });
    await storedIs(t, c.id, false);
    // The retry's time: the alarm is armed by it; run it now.
    await inObject(t.id, (sql) => sql.exec("UPDATE results SET next_at = ?", Date.now()));
    await runDurableObjectAlarm(await objectOf(t.id));
    await storedIs(t, c.id, true);
    expect(mediaGets(h)).toBe(2);
  });

  it("expires at the end of retention: the alarm deletes the object and its row, and the URL is 404", async () => {
    const t = await tenantWith({ results: { retention_days: 2 } });
    const c = await completed(t);
    await storedIs(t, c.id, true);
    const prefix = `results/${t.id}/`;
    expect(await keysUnder(prefix)).toHaveLength(1);
    const [row] = await inObject(t.id, (sql) => sql.exec("SELECT kept_until FROM results").toArray());
    expect(row!.kept_until as number).toBeGreaterThan(Date.now() + 2 * DAY - 60_000);
    expect(row!.kept_until as number).toBeLessThanOrEqual(Date.now() + 2 * DAY);

    await inObject(t.id, (sql) => sql.exec("UPDATE results SET kept_until = ?", Date.now() - 1));
    await runDurableObjectAlarm(await objectOf(t.id));
    expect(await keysUnder(prefix)).toEqual([]);
    expect(await inObject(t.id, (sql) => sql.exec("SELECT * FROM results").toArray())).toEqual([]);
    expect((await gw(pathOf(c.results[0]!))).status).toBe(404);
  });

  it("retention 0 passes the upstream's links through and copies nothing", async () => {
    const t = await tenantWith({ results: { retention_days: 0 } });
    const c = await completed(t);
    expect(c.results).toEqual([c.link]);
    await storedIs(t, c.id, null);
    expect(mediaGets(c.h)).toBe(0);
    expect(await keysUnder(`results/${t.id}/`)).toEqual([]);
  });

  it("a retention past MAX_RESULT_RETENTION_DAYS is refused (400)", async () => {
    const res = await admin(`/admin/tenants/retention-too-long`, {
      method: "PUT",
      json: {
        name: "x",
        auth: { issuer: "https://x.example/", audience: "a", hs256_secret: "s".repeat(40) },
        results: { retention_days: 366 },
      },
    });
    expect(res.status).toBe(400);
    expect(((await res.json()) as { error: { param: string } }).error.param).toBe("results.retention_days");
  });

  it("a forged, altered, expired or foreign result URL is the uniform 404", async () => {
    const t = await tenantWith();
    const c = await completed(t);
    await storedIs(t, c.id, true);
    const path = pathOf(c.results[0]!);
    const [, , token, name] = path.split("/");
    const [payload, mac] = token!.split(".");
    const flip = (s: string) => s.slice(0, -2) + (s.at(-2) === "A" ? "B" : "A") + s.at(-1);
    const decoded = JSON.parse(atob(payload!.replace(/-/g, "+").replace(/_/g, "/"))) as unknown[];
    const reencode = (v: unknown[]) =>
      btoa(JSON.stringify(v)).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
    const other = await tenantWith();
    const variants = [
      `/results/${payload}.${flip(mac!)}/${name}`,
      `/results/${flip(payload!)}.${mac}/${name}`,
      // another index, another tenant, a later expiry: each under the old MAC
      `/results/${reencode([decoded[0], decoded[1], decoded[2], 1, decoded[4]])}.${mac}/${name}`,
      `/results/${reencode([other.id, decoded[1], decoded[2], 0, decoded[4]])}.${mac}/${name}`,
      `/results/not-a-token/${name}`,
    ];
    for (const v of variants) {
      const res = await gw(v);
      expect(res.status, v).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("result_not_found");
    }
    // The genuine one still serves.
    expect((await gw(path)).status).toBe(200);
  });

  it("a URL of an earlier life of the tenant does not serve the new one's", async () => {
    const t = await tenantWith();
    const c = await completed(t);
    await storedIs(t, c.id, true);
    const [key] = await keysUnder(`results/${t.id}/`);
    const bytes = await (await env.RESULTS.get(key!))!.arrayBuffer();
    expect((await admin(`/admin/tenants/${t.id}?force=true`, { method: "DELETE" })).status).toBeLessThan(300);
    expect((await gw(pathOf(c.results[0]!))).status).toBe(404);
    // Even with its bytes back in the bucket (a copy racing the deletion), the dead life's URL does not serve.
    await env.RESULTS.put(key!, bytes);
    expect((await gw(pathOf(c.results[0]!))).status).toBe(404);
    await tenantWith(); // (another tenant, so the isolate's caches move on)
    const again = await admin(`/admin/tenants/${t.id}`, { method: "PUT", json: t.input });
    expect(again.status).toBe(201);
    expect((await gw(pathOf(c.results[0]!))).status).toBe(404);
  });

  it("a suspended tenant's result URLs keep serving (suspension stops new spending, not its videos)", async () => {
    const t = await tenantWith();
    const c = await completed(t);
    await storedIs(t, c.id, true);
    expect((await admin(`/admin/tenants/${t.id}/suspend`, { method: "POST" })).status).toBe(200);
    expect((await read(t, c.id)).status).toBe(403);
    expect((await gw(pathOf(c.results[0]!))).status).toBe(200);
  });

  it("two ends reported at once make one copy", async () => {
    const t = await tenantWith();
    const h = startSimulator();
    h.sim.configureMedia({ bytes: BYTES });
    h.sim.inject({ dropCallbacks: true });
    const { create } = await import("./helpers");
    const id = await create(t);
    await h.clock.advance(6_000);
    // Three polls at once each see the end and report it; the object records one end, one set of rows.
    const answers = await Promise.all([read(t, id), read(t, id), read(t, id)]);
    const bodies = (await Promise.all(answers.map((r) => r.json()))) as { results: string[] }[];
    expect(new Set(bodies.map((b) => b.results[0])).size).toBe(1);
    await storedIs(t, id, true);
    expect(mediaGets(h)).toBe(1);
    expect(await keysUnder(`results/${t.id}/`)).toHaveLength(1);
    expect(await inObject(t.id, (sql) => sql.exec("SELECT COUNT(*) AS n FROM results").one().n)).toBe(1);
  });

  it("the webhook carries the same gateway URLs as GET", async () => {
    const { webhookTenant, receiver, createTask } = await import("../callbacks/helpers");
    const { sim, clock } = startSimulator();
    const t = await webhookTenant();
    const hooks = receiver();
    const id = await createTask(t);
    await clock.advance(6_000);
    await eventually(() => expect(hooks).toHaveLength(1));
    const sent = JSON.parse(hooks[0]!.body) as { results: string[] };
    expect(sent.results[0]!.startsWith(`${GATEWAY}/results/`)).toBe(true);
    const view = (await (await read(t, id)).json()) as { results: string[] };
    expect(sent.results).toEqual(view.results);
    expect(sent.results[0]).not.toContain(sim.tasks()[0]!.id);
  });
});
