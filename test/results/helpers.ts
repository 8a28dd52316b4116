// Kept results through the real app: a tenant, a task the simulator completes (its result real MP4 bytes on the
// simulator's media host), the copy the tenant object's alarm makes, and the bucket looked at directly.
import { env } from "cloudflare:workers";
import { runInDurableObject } from "cloudflare:test";
import { expect } from "vitest";
import { eventually } from "../callbacks/helpers";
import { createTenant, hsTenant, type TenantFixture } from "../fixtures/tenants";
import {
  admin,
  GATEWAY,
  gw,
  startSimulator,
  type SimHarness,
  VALID_BODY,
  withJson,
} from "../helpers/gateway";
import { objectOf } from "../helpers/objects";

export const BYTES = 50_000;

export interface Completed {
  t: TenantFixture;
  h: SimHarness;
  id: string;
  /** The upstream's own link to the result. */
  link: string;
  /** `results` as GET /v1/tasks/{id} shows them. */
  results: string[];
}

export async function tenantWith(input: Record<string, unknown> = {}): Promise<TenantFixture> {
  return createTenant(hsTenant(input));
}

export async function create(t: TenantFixture, sub = "user-1"): Promise<string> {
  const res = await gw("/v1/videos/generations", withJson(await t.token({ sub }), VALID_BODY));
  expect(res.status).toBe(200);
  return ((await res.json()) as { id: string }).id;
}

export async function read(t: TenantFixture, id: string, sub = "user-1"): Promise<Response> {
  return gw(`/v1/tasks/${id}`, { headers: { authorization: `Bearer ${await t.token({ sub })}` } });
}

/** A task created and completed (the simulator's callback reports the end), with its results as GET shows them. */
export async function completed(t: TenantFixture, h = startSimulator(), bytes = BYTES): Promise<Completed> {
  h.sim.configureMedia({ bytes });
  const id = await create(t);
  await h.clock.advance(6_000);
  const body = await eventually(async () => {
    const res = await read(t, id);
    const view = (await res.json()) as { status: string; results?: string[] };
    expect(view.status).toBe("completed");
    return view;
  });
  const link = h.sim.tasks().at(-1)!.id;
  return { t, h, id, link: `${h.sim.mediaBaseUrl}/media/${link}.mp4`, results: body.results ?? [] };
}

/** The path of a gateway URL (the test calls the Worker with it). */
export const pathOf = (url: string): string => url.slice(GATEWAY.length);

/** The admin view's `results_stored` once it is `want`. */
export async function storedIs(t: TenantFixture, id: string, want: boolean | null): Promise<void> {
  await eventually(async () => {
    const res = await admin(`/admin/tenants/${t.id}/tasks/${id}`);
    expect(((await res.json()) as { results_stored: boolean | null }).results_stored).toBe(want);
  });
}

/** The simulator's own bytes for a result link (while it lives). */
export async function upstreamBytes(h: SimHarness, link: string): Promise<Uint8Array> {
  const res = await h.sim.fetch(new Request(link));
  expect(res.status).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

/** Every key in the RESULTS bucket under `prefix`. */
export async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await env.RESULTS.list({ prefix, ...(cursor ? { cursor } : {}) });
    keys.push(...page.objects.map((o) => o.key));
    cursor = page.truncated ? page.cursor : undefined;
  } while (cursor);
  return keys;
}

/** The simulator's recorded GETs of result links. */
export const mediaGets = (h: SimHarness) =>
  h.sim.requests.filter((r) => r.method === "GET" && r.path.startsWith("/media/")).length;

/** Runs SQL in the tenant's object (moving times into the past, reading rows). */
export async function inObject<T>(tenantId: string, fn: (sql: SqlStorage) => T): Promise<T> {
  return runInDurableObject(await objectOf(tenantId), (_o, state: DurableObjectState) =>
    fn(state.storage.sql),
  );
}
