// The gateway's own file URLs in a generation's video_urls, through the real app (R2 backend): any URL on the
// gateway's host must be a current file URL of the caller, exactly as the gateway minted it. A respelling
// ("%66iles", http:, a trailing dot, another port) is refused rather than waved through as someone else's
// URL; another tenant's or an expired URL is refused; and the gateway's URLs are accepted on whatever origin
// PUBLIC_BASE_URL names, loopback included, while other loopback URLs are still refused.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { fileUrl, subTag } from "../../src/files/signed-url";
import { createTenant, hsTenant } from "../fixtures/tenants";
import { UpstreamSimulator } from "../../sim/src/core";
import {
  GATEWAY,
  startSimulator,
  UPSTREAM_HOST,
  UPSTREAM_KEY,
  VALID_BODY,
  withJson,
} from "../helpers/gateway";
import { callsTo, route } from "../helpers/outbound";
import { envelope, form, gwWith, incarnationOf, mp4 } from "./helpers";

const R2 = { FILES_BACKEND: "r2" };
const SECRET = env.SIGNING_SECRET as string;

/** Uploads a small MP4 with `token` and returns its record (file_id, file_url). */
async function upload(vars: Record<string, string>, token: string): Promise<Record<string, any>> {
  const res = await gwWith(vars, "/api/v1/files/upload/stream", form(token, mp4(2000)));
  expect(res.status).toBe(200);
  return (await envelope(res)).data!;
}

async function generate(vars: Record<string, string>, token: string, videoUrl: string): Promise<Response> {
  return gwWith(vars, "/v1/videos/generations", withJson(token, { ...VALID_BODY, video_urls: [videoUrl] }));
}

async function expectNotYours(res: Response, label: string): Promise<void> {
  expect(res.status, label).toBe(403);
  expect(((await res.json()) as { error: object }).error, label).toMatchObject({
    code: "policy_violation",
    param: "video_urls[0]",
  });
}

describe("video_urls on the gateway's host", () => {
  it("refuses every other spelling of a file URL, for another user and for its owner alike", async () => {
    startSimulator();
    const t = await createTenant();
    const alice = await t.token({ sub: "alice" });
    const bob = await t.token({ sub: "bob" });
    const url = (await upload(R2, alice)).file_url as string;
    const rest = url.slice(`${GATEWAY}/files/`.length); // "{token}/{name}"
    const host = new URL(GATEWAY).host;
    const spellings: Record<string, string> = {
      "percent-encoded path": `${GATEWAY}/%66iles/${rest}`,
      "percent-encoded token": `${GATEWAY}/files/%${rest.charCodeAt(0).toString(16)}${rest.slice(1)}`,
      "http instead of https": `http://${host}/files/${rest}`,
      "trailing dot on the host": `https://${host}./files/${rest}`,
      "another port": `https://${host}:8443/files/${rest}`,
      "a query string": `${url}?v=1`,
      "a doubled slash": `${GATEWAY}//files/${rest}`,
      "an extra path segment": `${GATEWAY}/files/${rest}/more`,
      "not a file URL at all": `${GATEWAY}/v1/models`,
    };
    for (const [label, spelled] of Object.entries(spellings)) {
      expect(new URL(spelled).href, label).not.toBe(url);
      await expectNotYours(await generate(R2, bob, spelled), `bob: ${label}`);
      await expectNotYours(await generate(R2, alice, spelled), `alice: ${label}`);
    }
    expect(callsTo(UPSTREAM_HOST)).toHaveLength(0);
    // Spellings the URL parser itself makes canonical are the file URL, and are judged as such.
    const upper = url.replace(GATEWAY, GATEWAY.toUpperCase().replace("HTTPS", "https"));
    await expectNotYours(await generate(R2, bob, upper), "bob: upper-case host");
    expect((await generate(R2, alice, upper)).status).toBe(200);
  });

  it("refuses another tenant's file URL, to a token without `sub` too", async () => {
    startSimulator();
    const owner = await createTenant();
    const other = await createTenant(hsTenant());
    for (const sub of ["alice", null]) {
      const url = (await upload(R2, await owner.token({ sub }))).file_url as string;
      await expectNotYours(await generate(R2, await other.token({ sub: null }), url), `uploaded by ${sub}`);
      // The owner's tenant-wide token may use it.
      expect((await generate(R2, await owner.token({ sub: null }), url)).status).toBe(200);
    }
    expect(callsTo(UPSTREAM_HOST)).toHaveLength(2);
  });

  it("refuses an expired file URL of the caller's own, or one of its tenant's earlier life, and the gateway serves neither", async () => {
    startSimulator();
    const t = await createTenant();
    const alice = await t.token({ sub: "alice" });
    const file = await upload(R2, alice);
    const claims = {
      tenantId: t.id,
      incarnation: await incarnationOf(t.id),
      fileId: file.file_id as string,
      subTag: await subTag(SECRET, t.id, "alice"),
    };
    const live = await fileUrl(GATEWAY, SECRET, { ...claims, expiresAt: Date.now() + 60_000 }, "clip.mp4");
    const expired = await fileUrl(GATEWAY, SECRET, { ...claims, expiresAt: Date.now() - 60_000 }, "clip.mp4");
    // Signed genuinely, for the same tenant id and file, in a life that is not the tenant's current one.
    const earlierLife = await fileUrl(
      GATEWAY,
      SECRET,
      { ...claims, incarnation: "aaaaaaaaaaaaaaaa", expiresAt: Date.now() + 60_000 },
      "clip.mp4",
    );
    expect((await generate(R2, alice, live)).status).toBe(200);
    await expectNotYours(await generate(R2, alice, expired), "expired");
    await expectNotYours(await generate(R2, alice, earlierLife), "an earlier life");
    expect(callsTo(UPSTREAM_HOST)).toHaveLength(1);
    expect((await gwWith(R2, live.slice(GATEWAY.length))).status).toBe(200);
    expect((await gwWith(R2, expired.slice(GATEWAY.length))).status).toBe(404);
    expect((await gwWith(R2, earlierLife.slice(GATEWAY.length))).status).toBe(404);
  });
});

describe("a loopback PUBLIC_BASE_URL (the README's local setup), DEV_ALLOW_LOCAL_URLS off", () => {
  const LOCAL = { ...R2, PUBLIC_BASE_URL: "http://127.0.0.1:8787", DEV_ALLOW_LOCAL_URLS: "false" };

  /** The upstream as the local setup runs it: the gateway's callback URL is on the loopback origin too. */
  function localSimulator(): void {
    startSimulator();
    const sim = new UpstreamSimulator({
      apiKey: UPSTREAM_KEY,
      contract: (env.UPSTREAM_CONTRACT as Record<string, unknown> | null) ?? null,
      allowLocalCallbacks: true,
    });
    route(UPSTREAM_HOST, (req) => sim.fetch(req));
  }

  it("accepts the caller's own file URL there, and sends it upstream unchanged", async () => {
    localSimulator();
    const t = await createTenant();
    const alice = await t.token({ sub: "alice" });
    const url = (await upload(LOCAL, alice)).file_url as string;
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:8787\/files\//);
    const res = await generate(LOCAL, alice, url);
    expect(res.status).toBe(200);
    const [call] = callsTo(UPSTREAM_HOST);
    expect(JSON.parse(call!.body).video_urls).toEqual([url]);
  });

  it("still refuses another user's, an expired, or a non-file URL on that origin", async () => {
    startSimulator();
    const t = await createTenant();
    const alice = await t.token({ sub: "alice" });
    const file = await upload(LOCAL, alice);
    const expired = await fileUrl(
      LOCAL.PUBLIC_BASE_URL,
      SECRET,
      {
        tenantId: t.id,
        incarnation: await incarnationOf(t.id),
        fileId: file.file_id as string,
        subTag: await subTag(SECRET, t.id, "alice"),
        expiresAt: Date.now() - 60_000,
      },
      "clip.mp4",
    );
    await expectNotYours(await generate(LOCAL, await t.token({ sub: "bob" }), file.file_url), "bob");
    await expectNotYours(await generate(LOCAL, alice, expired), "expired");
    await expectNotYours(await generate(LOCAL, alice, "http://127.0.0.1:8787/v1/models"), "not a file");
    expect(callsTo(UPSTREAM_HOST)).toHaveLength(0);
  });

  it("refuses loopback URLs that are not on the gateway's origin with 400", async () => {
    startSimulator();
    const t = await createTenant();
    const alice = await t.token({ sub: "alice" });
    const rest = ((await upload(LOCAL, alice)).file_url as string).slice("http://127.0.0.1:8787".length);
    for (const url of [
      "http://127.0.0.1:9999/clip.mp4",
      `http://127.0.0.1:9999${rest}`,
      `http://localhost:8787${rest}`,
      `https://127.0.0.1:8787${rest}`,
      "http://127.0.0.2:8787/clip.mp4",
    ]) {
      const res = await generate(LOCAL, alice, url);
      expect(res.status, url).toBe(400);
      expect(((await res.json()) as { error: { message: string } }).error, url).toMatchObject({
        code: "invalid_request",
        param: "video_urls[0]",
        message: "video_urls[0] must not point at a loopback, private, link-local or reserved address",
      });
    }
    expect(callsTo(UPSTREAM_HOST)).toHaveLength(0);
  });
});
