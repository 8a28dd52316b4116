// A per-request callback_url through the real app. The task's end event goes there instead of to the tenant's
// webhook, so an end user must not be able to send it elsewhere: without policy.callback_hosts only the
// webhook.url's host is accepted, with neither nothing is, and `callback_hosts: ["*"]` opens every host.
import { describe, expect, it } from "vitest";
import { createTenant, hsTenant, type TenantFixture } from "../fixtures/tenants";
import { admin, gw, startSimulator, UPSTREAM_HOST, VALID_BODY, withJson } from "../helpers/gateway";
import { callsTo } from "../helpers/outbound";

const ATTACKER = "https://attacker.example/x";

async function generate(t: TenantFixture, callbackUrl?: string): Promise<Response> {
  const body = callbackUrl === undefined ? VALID_BODY : { ...VALID_BODY, callback_url: callbackUrl };
  return gw("/v1/videos/generations", withJson(await t.token(), body));
}

async function expectRefused(res: Response, message: string): Promise<void> {
  expect(res.status).toBe(403);
  expect(await res.json()).toMatchObject({
    error: { code: "policy_violation", param: "callback_url", message },
  });
}

describe("a per-request callback_url", () => {
  it("must be on the host of the tenant's webhook.url when callback_hosts is unset", async () => {
    startSimulator();
    const t = await createTenant(hsTenant({ webhook: { url: "https://hooks.acme.example/reelgate" } }));
    await expectRefused(
      await generate(t, ATTACKER),
      "callback_url host attacker.example is not the host of this tenant's webhook.url (hooks.acme.example); policy.callback_hosts can allow others",
    );
    await expectRefused(
      await generate(t, "https://evil.hooks.acme.example/x"),
      "callback_url host evil.hooks.acme.example is not the host of this tenant's webhook.url (hooks.acme.example); policy.callback_hosts can allow others",
    );
    expect(callsTo(UPSTREAM_HOST)).toHaveLength(0);
    expect((await generate(t, "https://hooks.acme.example/per-task")).status).toBe(200);
  });

  it("is refused when the tenant has neither callback_hosts nor a webhook.url", async () => {
    startSimulator();
    const t = await createTenant(hsTenant({ policy: { max_duration: 10 } }));
    await expectRefused(
      await generate(t, ATTACKER),
      "this tenant accepts no callback_url (it has neither policy.callback_hosts nor a webhook.url)",
    );
    expect(callsTo(UPSTREAM_HOST)).toHaveLength(0);
    expect((await generate(t)).status).toBe(200);
  });

  it('may point anywhere once the tenant says so with callback_hosts: ["*"]', async () => {
    startSimulator();
    const t = await createTenant(hsTenant({ policy: { callback_hosts: ["*"] } }));
    const stored = (await (await admin(`/admin/tenants/${t.id}`)).json()) as { policy: unknown };
    expect(stored.policy).toEqual({ callback_hosts: ["*"] });
    expect((await generate(t, "https://anywhere.example.net/hook")).status).toBe(200);
  });

  it("follows callback_hosts when set, the webhook's host included only if listed", async () => {
    startSimulator();
    const t = await createTenant(
      hsTenant({
        webhook: { url: "https://hooks.acme.example/reelgate" },
        policy: { callback_hosts: ["*.apps.acme.example"] },
      }),
    );
    expect((await generate(t, "https://eu.apps.acme.example/done")).status).toBe(200);
    await expectRefused(
      await generate(t, "https://hooks.acme.example/other"),
      "callback_url host hooks.acme.example is not in this tenant's allowed callback hosts",
    );
  });
});
