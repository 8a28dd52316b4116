// POST /callbacks/upstream/{token}: only the gateway's own signed URLs are answered; the body is a hint and
// the upstream is asked before anything is recorded; the first report of an end counts, once.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signCallbackToken } from "../../src/callbacks/token";
import { getTenant } from "../../src/tenants/lookup";
import { objectOf, rowOf } from "../helpers/objects";
import { GATEWAY, UPSTREAM_HOST, admin, gw, startSimulator } from "../helpers/gateway";
import { callsTo } from "../helpers/outbound";
import { HOOK_HOST, createTask, deliveries, eventually, receiver, webhookTenant } from "./helpers";

const SECRET = env.SIGNING_SECRET as string;

function post(path: string, body: unknown = { status: "completed" }) {
  return gw(path, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** The path of the callback URL the gateway handed the upstream for its only task. */
function callbackPath(sim: ReturnType<typeof startSimulator>["sim"]): string {
  const url = sim.tasks()[0]!.request.callback_url!;
  expect(url.startsWith(`${GATEWAY}/callbacks/upstream/`)).toBe(true);
  return url.slice(GATEWAY.length);
}

/** A task the upstream has finished, whose callback was lost: the gateway has not seen the end yet. */
async function finishedUnseen() {
  const harness = startSimulator();
  const t = await webhookTenant();
  const hooks = receiver();
  const id = await createTask(t);
  harness.sim.inject({ dropCallbacks: true });
  await harness.clock.advance(10_000);
  expect(harness.sim.tasks()[0]!.status).toBe("completed");
  return { ...harness, t, hooks, id, path: callbackPath(harness.sim) };
}

async function expectUnchanged(tenantId: string, id: string, hooks: unknown[]) {
  const record = await (await objectOf(tenantId)).getTask(await rowOf(tenantId, id));
  expect(record).toMatchObject({ state: "pending", endedAt: null });
  await new Promise((r) => setTimeout(r, 100));
  expect(hooks).toEqual([]);
  expect(await deliveries(tenantId)).toEqual([]);
}

describe("callback ingress", () => {
  it("answers 404 to a missing, forged or altered token, with nothing relayed and nothing changed", async () => {
    const { t, hooks, id, path } = await finishedUnseen();
    const token = path.slice("/callbacks/upstream/".length);
    const [payload, mac] = token.split(".") as [string, string];
    const flip = (s: string) => s.slice(0, -1) + (s.endsWith("A") ? "B" : "A");
    const row = await rowOf(t.id, id);
    const { incarnation } = (await getTenant(env, t.id))!;
    const otherTask = await signCallbackToken("some-other-secret-0123456789abcdefgh", {
      tenantId: t.id,
      incarnation,
      taskId: row,
    });
    const otherTenant = await signCallbackToken(SECRET, {
      tenantId: "someone-else",
      incarnation,
      taskId: row,
    });
    const oldLife = await signCallbackToken(SECRET, {
      tenantId: t.id,
      incarnation: "an0lderlife",
      taskId: row,
    });
    const bad = [
      "/callbacks/upstream/",
      "/callbacks/upstream",
      `/callbacks/upstream/${flip(payload)}.${mac}`, // altered payload
      `/callbacks/upstream/${payload}.${flip(mac)}`, // altered MAC
      `/callbacks/upstream/${payload}`, // MAC missing
      `/callbacks/upstream/${token}.extra`,
      `/callbacks/upstream/${otherTask}`, // signed with another key
      `/callbacks/upstream/${otherTenant}`, // genuine token for a tenant that does not exist
      `/callbacks/upstream/${oldLife}`, // genuine token for an earlier life of the tenant
      `/callbacks/upstream/${"a".repeat(600)}.${mac}`,
    ];
    const upstreamCalls = callsTo(UPSTREAM_HOST).length;
    for (const p of bad) {
      const res = await post(p);
      expect(res.status, p).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not_found");
    }
    expect(callsTo(UPSTREAM_HOST).length).toBe(upstreamCalls); // the upstream was never asked
    await expectUnchanged(t.id, id, hooks);
  });

  it("treats the body as a hint: the upstream's answer decides", async () => {
    const { sim, clock } = startSimulator();
    const t = await webhookTenant();
    const hooks = receiver();
    const id = await createTask(t);
    await clock.advance(2_000); // processing upstream
    const path = callbackPath(sim);
    const res = await post(path, {
      id: sim.tasks()[0]!.id,
      status: "completed",
      results: ["https://evil.example/x.mp4"],
    });
    expect(res.status).toBe(200);
    expect(await (await objectOf(t.id)).getTask(await rowOf(t.id, id))).toMatchObject({
      state: "processing",
      endedAt: null,
    });
    // An unreadable or oversized body changes nothing either.
    expect((await post(path, "{not json")).status).toBe(200);
    expect((await post(path, JSON.stringify({ pad: "x".repeat(70_000) }))).status).toBe(200);
    await new Promise((r) => setTimeout(r, 100));
    expect(hooks).toEqual([]);
  });

  it("counts the first report of an end once: upstream retries, concurrent callbacks and polls add nothing", async () => {
    const { t, hooks, id, path } = await finishedUnseen();
    const before = callsTo(UPSTREAM_HOST).length;
    const answers = await Promise.all([post(path), post(path), post(path)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200]);
    await eventually(() => expect(hooks).toHaveLength(1));
    const confirmations = callsTo(UPSTREAM_HOST).length - before;
    expect(confirmations).toBeGreaterThanOrEqual(1);

    // Later duplicates are answered from the recorded end, without asking the upstream again.
    for (let i = 0; i < 3; i++) expect((await post(path)).status).toBe(200);
    const res = await gw(`/v1/tasks/${id}`, { headers: { authorization: `Bearer ${await t.token()}` } });
    expect(res.status).toBe(200);
    // The duplicates asked nothing, and neither did the poll: the ingress put the final view in the
    // location's cache.
    expect(callsTo(UPSTREAM_HOST).length - before).toBe(confirmations);
    await new Promise((r) => setTimeout(r, 300));
    expect(hooks).toHaveLength(1);
    expect(await deliveries(t.id)).toHaveLength(1);
  });

  it("answers with an error the upstream retries when it cannot confirm, and succeeds on the retry", async () => {
    const { sim, clock } = startSimulator();
    const t = await webhookTenant();
    const hooks = receiver();
    await createTask(t);
    sim.inject({ query: { status: 500, count: 1 } });
    await clock.advance(6_000); // first callback: the confirmation fails
    expect(sim.callbacks.map((c) => c.status)).toEqual([502]);
    await clock.advance(1_000); // the upstream's retry 1 s later
    expect(sim.callbacks.map((c) => c.status)).toEqual([502, 200]);
    await eventually(() => expect(hooks).toHaveLength(1));
  });

  it("asks the upstream to retry a callback that arrives before the create answer did", async () => {
    const { sim } = startSimulator();
    const t = await webhookTenant();
    sim.inject({ createDelayMs: 500 });
    const creating = createTask(t);
    const sent = await eventually(() => {
      const [call] = callsTo(UPSTREAM_HOST);
      expect(call).toBeDefined();
      return JSON.parse(call!.body) as { callback_url: string };
    });
    const res = await post(sent.callback_url.slice(GATEWAY.length));
    expect(res.status).toBe(503);
    expect(res.headers.get("retry-after")).toBe("1");
    expect(callsTo(UPSTREAM_HOST)).toHaveLength(1); // nothing asked: there is no upstream id yet
    await creating;
  });

  it("answers 404 once the tenant is deleted", async () => {
    const { t, path } = await finishedUnseen();
    // The task is still in flight for the gateway: a plain DELETE is refused, a forced one drops it.
    expect((await admin(`/admin/tenants/${t.id}`, { method: "DELETE" })).status).toBe(409);
    expect((await admin(`/admin/tenants/${t.id}?force=true`, { method: "DELETE" })).status).toBe(204);
    const before = callsTo(UPSTREAM_HOST).length;
    expect((await post(path)).status).toBe(404);
    expect(callsTo(UPSTREAM_HOST).length).toBe(before);
    expect(callsTo(HOOK_HOST)).toEqual([]);
  });
});
