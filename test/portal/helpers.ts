// The tenant portal's test set-up: links issued through the admin API, calls to /portal/api with a link's
// token, and a tenant with one ended task (its webhook delivered and recorded) and one uploaded file, so that
// every kind of id the portal takes exists for real.
import { expect } from "vitest";
import {
  deliveries,
  receiver,
  webhookTenant,
  type WebhookTenant,
  createTask,
  eventually,
} from "../callbacks/helpers";
import { admin, gw, type SimHarness } from "../helpers/gateway";
import { form, gwWith, mp4, envelope } from "../files/helpers";

export interface Link {
  url: string;
  token: string;
  expires_at: string;
  capabilities: string[];
}

export async function portalLink(tenantId: string, body: Record<string, unknown> = {}): Promise<Link> {
  const res = await admin(`/admin/tenants/${tenantId}/portal-links`, { method: "POST", json: body });
  expect(res.status).toBe(201);
  const link = (await res.json()) as Omit<Link, "token">;
  return { ...link, token: new URL(link.url).hash.slice(1) };
}

export const ALL_CAPABILITIES = ["read", "redeliver", "rotate_secret", "edit_webhook"];

/**
 * A call to the portal API with `token` (`json` sends a JSON body; `vars` replaces bindings or vars for this
 * call, e.g. the portal's rate limiter).
 */
export function papi(
  token: string | null,
  path: string,
  init: {
    method?: string;
    json?: unknown;
    headers?: Record<string, string>;
    vars?: Record<string, unknown>;
  } = {},
): Promise<Response> {
  const headers: Record<string, string> = { ...init.headers };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (init.json !== undefined) headers["content-type"] = "application/json";
  const req = {
    method: init.method ?? "GET",
    headers,
    ...(init.json !== undefined ? { body: JSON.stringify(init.json) } : {}),
  };
  return init.vars ? gwWith(init.vars, `/portal/api${path}`, req) : gw(`/portal/api${path}`, req);
}

/** A Rate Limiting binding that never refuses: for a test that makes more portal calls than the limit. */
export const UNLIMITED: Record<string, unknown> = {
  READ_LIMIT_USER: { limit: async () => ({ success: true }) },
};

export interface StockedTenant extends WebhookTenant {
  taskId: string;
  deliveryId: string;
  fileId: string;
}

/** A tenant with a webhook, one completed task whose event was delivered, and one uploaded file (R2). */
export async function stockedTenant(harness: SimHarness, host: string): Promise<StockedTenant> {
  const t = await webhookTenant({ url: `https://${host}/hook` });
  receiver(host);
  const taskId = await createTask(t);
  await harness.clock.advance(6_000);
  const [delivery] = await eventually(async () => {
    const list = await deliveries(t.id);
    expect(list).toHaveLength(1);
    return list;
  });
  const res = await gwWith(
    { FILES_BACKEND: "r2" },
    "/api/v1/files/upload/stream",
    form(await t.token(), mp4(1000)),
  );
  expect(res.status).toBe(200);
  const fileId = (await envelope(res)).data!.file_id as string;
  return { ...t, taskId, deliveryId: delivery!.id, fileId };
}
