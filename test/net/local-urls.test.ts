// DEV_ALLOW_LOCAL_URLS, through the real app: it covers exactly the URLs the gateway itself calls
// (callback_url, webhook.url, jwks_uri), with one rule for the admin check and the fetch, so a local
// `jwks_uri` the admin API accepted is also fetched; and it never covers `video_urls`, which the upstream
// fetches and which can never reach the operator's loopback.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { app } from "../../src/app";
import type { Env } from "../../src/env";
import type { Tenant } from "../../src/tenants/schema";
import { claimsFor, makeKeyPair, publicJwks, signToken } from "../fixtures/keys";
import { ADMIN_TOKEN, GATEWAY, UPSTREAM_HOST, VALID_BODY, startSimulator } from "../helpers/gateway";
import { callsTo, route } from "../helpers/outbound";

const devEnv = { ...(env as Env), DEV_ALLOW_LOCAL_URLS: "true" } as Env;

function call(target: Env, path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  return Promise.resolve(app.fetch(new Request(`${GATEWAY}${path}`, { ...init, headers, body }), target));
}

const asAdmin = { authorization: `Bearer ${ADMIN_TOKEN}` };

describe("DEV_ALLOW_LOCAL_URLS: one rule for the URLs the gateway calls", () => {
  it("a local jwks_uri accepted by PUT is fetched, and its tokens verify", async () => {
    startSimulator();
    const key = await makeKeyPair("ES256");
    const id = `local-jwks-${crypto.randomUUID().slice(0, 8)}`;
    const keyHost = "127.0.0.1:48123";
    route(keyHost, () => Response.json(publicJwks(key)));
    const auth = {
      issuer: `https://id.${id}.example/`,
      audience: "reelgate",
      jwks_uri: `http://${keyHost}/jwks.json`,
    };

    // Refused without the flag, accepted with it.
    const refused = await call(env as Env, `/admin/tenants/${id}`, {
      method: "PUT",
      headers: asAdmin,
      json: { name: id, auth },
    });
    expect(refused.status).toBe(400);
    expect(await refused.json()).toMatchObject({ error: { param: "auth.jwks_uri" } });
    const put = await call(devEnv, `/admin/tenants/${id}`, {
      method: "PUT",
      headers: asAdmin,
      json: { name: id, auth },
    });
    expect(put.status).toBe(201);

    const token = await signToken(key, claimsFor({ auth } as unknown as Tenant));
    const usage = await call(devEnv, "/v1/usage", { headers: { authorization: `Bearer ${token}` } });
    expect(usage.status).toBe(200);
    expect(callsTo(keyHost)).toHaveLength(1);
    expect(callsTo(keyHost)[0]!.url).toBe(`http://${keyHost}/jwks.json`);

    // A deployment without the flag never fetches it, whatever the stored record says.
    const off = await call(env as Env, "/v1/usage", { headers: { authorization: `Bearer ${token}` } });
    expect(off.status).toBe(401);
    expect(callsTo(keyHost)).toHaveLength(1);
  });

  it("never lets video_urls point at the operator's loopback, whatever the flag", async () => {
    startSimulator();
    const secret = `hs256-secret-${"y".repeat(32)}`;
    const id = `local-video-${crypto.randomUUID().slice(0, 8)}`;
    const auth = { issuer: `https://id.${id}.example/`, audience: "reelgate", hs256_secret: secret };
    // The callback_url below is on the host of the tenant's (local) webhook.url.
    const webhook = { url: "http://127.0.0.1:9000/tenant-hook" };
    expect(
      (
        await call(devEnv, `/admin/tenants/${id}`, {
          method: "PUT",
          headers: asAdmin,
          json: { name: id, auth, webhook },
        })
      ).status,
    ).toBe(201);
    const { SignJWT } = await import("jose");
    const token = await new SignJWT({ sub: "u" })
      .setProtectedHeader({ alg: "HS256" })
      .setIssuer(auth.issuer)
      .setAudience("reelgate")
      .setIssuedAt()
      .setExpirationTime("5m")
      .sign(new TextEncoder().encode(secret));
    const post = (body: object) =>
      call(devEnv, "/v1/videos/generations", {
        method: "POST",
        headers: { authorization: `Bearer ${token}` },
        json: body,
      });

    for (const local of [
      "http://127.0.0.1/a.mp4",
      "http://2130706433/a.mp4",
      "http://[::1]/a.mp4",
      "http://localhost:9000/a.mp4",
    ]) {
      const res = await post({ ...VALID_BODY, video_urls: [local] });
      expect(res.status, local).toBe(400);
      expect(await res.json()).toMatchObject({ error: { code: "invalid_request", param: "video_urls[0]" } });
    }
    expect(callsTo(UPSTREAM_HOST)).toEqual([]);
    // The flag still covers the URLs the gateway calls itself: a local callback_url is accepted.
    const ok = await post({ ...VALID_BODY, callback_url: "http://127.0.0.1:9000/hook" });
    expect(ok.status).toBe(200);
  });
});
