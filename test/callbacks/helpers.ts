// Helpers for the callback relay tests: tenants with a webhook (their generated secret captured from the one
// response that shows it), in-isolate webhook receivers with scripted answers, and the admin delivery list.
import { expect, vi } from "vitest";
import { hsTenant, type TenantFixture } from "../fixtures/tenants";
import { admin, gw, VALID_BODY, withJson } from "../helpers/gateway";
import { route } from "../helpers/outbound";
import type { DeliveryView } from "../../src/callbacks/delivery-log";

export const HOOK_HOST = "hooks.acme.example";
export const HOOK_URL = `https://${HOOK_HOST}/reelgate`;

export interface WebhookTenant extends TenantFixture {
  webhookSecret: string;
  incarnation: string;
}

/** Creates a tenant through the admin API; `webhook` as given (the secret is generated when absent). */
export async function webhookTenant(
  webhook: Record<string, unknown> | null = { url: HOOK_URL },
  overrides: Record<string, unknown> = {},
): Promise<WebhookTenant> {
  const fixture = hsTenant({ ...(webhook ? { webhook } : {}), ...overrides });
  const res = await admin(`/admin/tenants/${fixture.id}`, { method: "PUT", json: fixture.input });
  expect(res.status).toBe(201);
  const body = (await res.json()) as { incarnation: string; webhook: { secret?: string } };
  const webhookSecret = (webhook?.secret as string | undefined) ?? body.webhook.secret;
  if (!webhookSecret) throw new Error("no webhook secret shown on creation");
  return { ...fixture, webhookSecret, incarnation: body.incarnation };
}

export interface Received {
  url: string;
  headers: Record<string, string>;
  body: string;
}

/**
 * Routes `host` to a receiver that records each request and answers with the next scripted reply
 * (a status, or "hang" to never answer); the last reply repeats.
 */
export function receiver(host = HOOK_HOST, script: (number | "hang")[] = [200]) {
  const received: Received[] = [];
  route(host, async (req) => {
    received.push({ url: req.url, headers: Object.fromEntries(req.headers), body: await req.text() });
    const reply = script[Math.min(received.length - 1, script.length - 1)]!;
    if (reply === "hang") return new Promise<Response>(() => {});
    return new Response(reply >= 200 && reply < 300 ? "ok" : "nope", { status: reply });
  });
  return received;
}

export async function createTask(t: TenantFixture, body: Record<string, unknown> = {}): Promise<string> {
  const res = await gw("/v1/videos/generations", withJson(await t.token(), { ...VALID_BODY, ...body }));
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

export async function getTask(t: TenantFixture, id: string): Promise<Record<string, unknown>> {
  const res = await gw(`/v1/tasks/${id}`, { headers: { authorization: `Bearer ${await t.token()}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

/** A delivery record as the admin API lists it (JSON of the same shape the ledger renders). */
export type Delivery = DeliveryView;

export async function deliveries(tenantId: string, query = ""): Promise<Delivery[]> {
  const res = await admin(`/admin/tenants/${tenantId}/deliveries${query}`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { data: Delivery[] }).data;
}

/** Waits (real time) until `check` stops throwing. */
export function eventually<T>(check: () => T | Promise<T>, timeout = 8_000): Promise<T> {
  return vi.waitFor(check, { timeout, interval: 25 });
}
