// FILES_BACKEND=r2 through the real app: the file lands in the local R2 bucket, the answer carries a signed,
// expiring URL on the gateway's origin, and that URL serves the same bytes to anyone holding it, and is
// accepted in a generation's video_urls.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createTenant, hsTenant } from "../fixtures/tenants";
import { GATEWAY, startSimulator, UPSTREAM_HOST, VALID_BODY, withJson } from "../helpers/gateway";
import { callsTo } from "../helpers/outbound";
import { fileUrl, subTag } from "../../src/files/signed-url";
import { base64Body, envelope, form, gwWith, incarnationOf, mp4, PNG } from "./helpers";

const R2 = { FILES_BACKEND: "r2" };
const path = (url: string) => url.slice(GATEWAY.length);
const SECRET = env.SIGNING_SECRET as string;

describe("uploads to R2", () => {
  it("stores a streamed file and serves it from a signed gateway URL, ranges included", async () => {
    const t = await createTenant();
    const token = await t.token({ sub: "alice" });
    const file = mp4(300_000);
    const res = await gwWith(
      R2,
      "/api/v1/files/upload/stream",
      form(token, file, { fields: { upload_path: "refs" }, fieldsAfter: { file_name: "take-1.mp4" } }),
    );
    expect(res.status).toBe(200);
    const body = await envelope(res);
    expect(body).toMatchObject({ success: true, code: 200, msg: "File uploaded successfully" });
    expect(body.data).toMatchObject({
      file_id: expect.stringMatching(/^file_[a-z2-7]+$/),
      file_name: "take-1.mp4",
      file_size: 300_000,
      mime_type: "video/mp4",
      upload_path: "refs",
      file_url: expect.stringMatching(
        new RegExp(`^${GATEWAY}/files/[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+/take-1\\.mp4$`),
      ),
    });
    const expires = Date.parse(body.data!.expires_at) - Date.parse(body.data!.upload_time);
    expect(Math.abs(expires - 72 * 3600_000)).toBeLessThan(5_000);
    expect(await env.UPLOADS!.head(`files/${t.id}/${body.data!.file_id}`)).not.toBeNull();
    // The URL goes to the upstream: it names the file, never the user.
    const payload = path(body.data!.file_url).split("/")[2]!.split(".")[0]!;
    const decoded = atob(payload.replace(/-/g, "+").replace(/_/g, "/"));
    expect(decoded).toContain(body.data!.file_id);
    expect(decoded).not.toContain("alice");

    const got = await gwWith(R2, path(body.data!.file_url));
    expect(got.status).toBe(200);
    expect(got.headers.get("content-type")).toBe("video/mp4");
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(file);
    const part = await gwWith(R2, path(body.data!.file_url), { headers: { range: "bytes=0-15" } });
    expect(part.status).toBe(206);
    expect(part.headers.get("content-range")).toBe("bytes 0-15/300000");
    expect(new Uint8Array(await part.arrayBuffer())).toEqual(file.subarray(0, 16));
  });

  it("writes files larger than one R2 part with a multipart upload (three parts: the two buffers take turns)", async () => {
    const t = await createTenant();
    const file = mp4(2 * 5 * 1024 * 1024 + 7);
    const res = await gwWith(R2, "/api/v1/files/upload/stream", form(await t.token(), file));
    expect(res.status).toBe(200);
    const { data } = await envelope(res);
    const stored = await env.UPLOADS!.get(`files/${t.id}/${data!.file_id}`);
    expect(stored?.size).toBe(file.length);
    expect(new Uint8Array(await stored!.arrayBuffer())).toEqual(file);
  });

  it("refuses an altered, foreign or expired signed URL with the same 404", async () => {
    const t = await createTenant();
    const res = await gwWith(R2, "/api/v1/files/upload/stream", form(await t.token(), mp4(1000)));
    const { file_url: url, file_id: fileId } = (await envelope(res)).data!;
    const [token] = path(url).slice("/files/".length).split("/");
    const [payload, mac] = token!.split(".");
    const flipped = `${payload}.${mac!.slice(0, -2)}${mac!.endsWith("AA") ? "AB" : "AA"}`;
    // The same stored file, named by a URL another key signed, by one this gateway signed that has expired,
    // and by one it signed for another life of the tenant (deleted and re-created under the same id).
    const claims = {
      tenantId: t.id,
      incarnation: await incarnationOf(t.id),
      fileId,
      subTag: await subTag(SECRET, t.id, "user-1"),
    };
    const live = await fileUrl(GATEWAY, SECRET, { ...claims, expiresAt: Date.now() + 60_000 }, "clip.mp4");
    const foreign = await fileUrl(
      GATEWAY,
      `another-gateway-${SECRET}`,
      { ...claims, expiresAt: Date.now() + 60_000 },
      "clip.mp4",
    );
    const expired = await fileUrl(GATEWAY, SECRET, { ...claims, expiresAt: Date.now() - 60_000 }, "clip.mp4");
    const earlierLife = await fileUrl(
      GATEWAY,
      SECRET,
      { ...claims, incarnation: "aaaaaaaaaaaaaaaa", expiresAt: Date.now() + 60_000 },
      "clip.mp4",
    );
    expect((await gwWith(R2, path(live))).status).toBe(200);
    for (const bad of [
      `/files/${flipped}/clip.mp4`,
      `/files/${payload}/clip.mp4`,
      "/files/x.y/z.mp4",
      path(foreign),
      path(expired),
      path(earlierLife),
    ]) {
      const r = await gwWith(R2, bad);
      expect(r.status).toBe(404);
      expect((await r.json()) as object).toMatchObject({ error: { code: "not_found" } });
    }
  });

  it("takes base64 uploads (data URL and raw) the same way", async () => {
    const t = await createTenant();
    const token = await t.token();
    const file = mp4(5000, "qt  ");
    const res = await gwWith(
      R2,
      "/api/v1/files/upload/base64",
      base64Body(token, file, "video/quicktime", { file_name: "take.mov" }),
    );
    expect(res.status).toBe(200);
    const { data } = await envelope(res);
    expect(data).toMatchObject({ mime_type: "video/quicktime", file_size: 5000, file_name: "take.mov" });
    const got = await gwWith(R2, path(data!.file_url));
    expect(new Uint8Array(await got.arrayBuffer())).toEqual(file);
    let raw = "";
    for (const b of PNG) raw += String.fromCharCode(b);
    const png = await gwWith(R2, "/api/v1/files/upload/base64", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ base64_data: btoa(raw) }),
    });
    expect(png.status).toBe(200);
    expect((await envelope(png)).data).toMatchObject({ mime_type: "image/png" });
  });

  it("a generation may use the caller's own file URL; the upstream receives it unchanged", async () => {
    startSimulator();
    const t = await createTenant();
    const token = await t.token({ sub: "alice" });
    const up = await gwWith(R2, "/api/v1/files/upload/stream", form(token, mp4(2000)));
    const url = (await envelope(up)).data!.file_url as string;
    const res = await gwWith(
      R2,
      "/v1/videos/generations",
      withJson(token, { ...VALID_BODY, video_urls: [url] }),
    );
    expect(res.status).toBe(200);
    const [call] = callsTo(UPSTREAM_HOST);
    expect(JSON.parse(call!.body).video_urls).toEqual([url]);
  });

  it("another user's, another tenant's or an altered file URL is a 403 policy_violation; nothing is sent upstream", async () => {
    startSimulator();
    const t = await createTenant();
    const other = await createTenant(hsTenant());
    const alice = await t.token({ sub: "alice" });
    const up = await gwWith(R2, "/api/v1/files/upload/stream", form(alice, mp4(2000)));
    const url = (await envelope(up)).data!.file_url as string;
    const altered = url.replace(
      /(\/files\/[^.]+\.)(.)/,
      (_m, pre: string, ch: string) => `${pre}${ch === "A" ? "B" : "A"}`,
    );
    const cases: [string, string][] = [
      [await t.token({ sub: "bob" }), url],
      [await other.token({ sub: "alice" }), url],
      [alice, altered],
    ];
    for (const [token, videoUrl] of cases) {
      const res = await gwWith(
        R2,
        "/v1/videos/generations",
        withJson(token, { ...VALID_BODY, video_urls: ["https://cdn.acme.example/a.mp4", videoUrl] }),
      );
      expect(res.status).toBe(403);
      expect(((await res.json()) as { error: object }).error).toMatchObject({
        code: "policy_violation",
        param: "video_urls[1]",
      });
    }
    // A token without `sub` acts for the whole tenant.
    const tenantWide = await gwWith(
      R2,
      "/v1/videos/generations",
      withJson(await t.token({ sub: null }), { ...VALID_BODY, video_urls: [url] }),
    );
    expect(tenantWide.status).toBe(200);
    expect(callsTo(UPSTREAM_HOST)).toHaveLength(1);
  });
});
