// `auth.require_sub` through the real app: a tenant whose tokens all come from an identity provider refuses
// one without `sub` (the generic 401), so no token reaches every user's tasks, files and usage. Off by default.
import { describe, expect, it } from "vitest";
import { createTenant, hsTenant } from "../fixtures/tenants";
import { admin, bearer, gw } from "../helpers/gateway";

describe("auth.require_sub", () => {
  it("refuses a token without sub with the generic 401 and serves one with sub", async () => {
    const t = hsTenant();
    t.input.auth = { ...(t.input.auth as object), require_sub: true };
    await createTenant(t);

    const refused = await gw("/v1/usage", bearer(await t.token({ sub: null })));
    expect(refused.status).toBe(401);
    expect(refused.headers.get("www-authenticate")).toBe('Bearer error="invalid_token"');
    expect(await refused.json()).toMatchObject({ error: { code: "unauthorized" } });
    for (const path of ["/v1/tasks", "/api/v1/files/list"])
      expect((await gw(path, bearer(await t.token({ sub: null })))).status, path).toBe(401);

    const served = await gw("/v1/usage", bearer(await t.token({ sub: "user-1" })));
    expect(served.status).toBe(200);
    expect(await served.json()).toMatchObject({ user: { sub: "user-1" } });
  });

  it("is off by default, shown in the tenant's view, and must be a boolean", async () => {
    const t = await createTenant();
    expect((await gw("/v1/usage", bearer(await t.token({ sub: null })))).status).toBe(200);

    const on = await admin(`/admin/tenants/${t.id}`, {
      method: "PUT",
      json: { ...t.input, auth: { ...(t.input.auth as object), require_sub: true } },
    });
    expect(on.status).toBe(200);
    expect(await on.json()).toMatchObject({ auth: { require_sub: true } });
    expect((await gw("/v1/usage", bearer(await t.token({ sub: null })))).status).toBe(401);

    const bad = await admin(`/admin/tenants/${t.id}`, {
      method: "PUT",
      json: { ...t.input, auth: { ...(t.input.auth as object), require_sub: "yes" } },
    });
    expect(bad.status).toBe(400);
  });
});
