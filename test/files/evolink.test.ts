// FILES_BACKEND=evolink (the default) through the real app, against the simulator's strict files API: the
// upload is forwarded with the operator's key (never the tenant's token), EvoLink's file_url comes back
// unchanged, what the gateway answers matches EvoLink's own OpenAPI files, and upstream failures keep
// both envelopes.
import { describe, expect, it } from "vitest";
import { validateWith } from "../../sim/src/contract";
import { contract, NO_CONTRACT } from "../sim/helpers";
import { createTenant, hsTenant } from "../fixtures/tenants";
import { startSimulator, UPSTREAM_KEY } from "../helpers/gateway";
import { callsTo, route } from "../helpers/outbound";
import { base64Body, envelope, FILES_HOST, form, gwWith, jsonBody, mp4, routeFiles } from "./helpers";

function setUp() {
  const { sim } = startSimulator();
  routeFiles(sim);
  return sim;
}

describe("uploads forwarded to EvoLink's files API", () => {
  it("streams the file with the operator's key and returns EvoLink's file_url unchanged", async () => {
    const sim = setUp();
    const t = await createTenant();
    const token = await t.token({ sub: "alice" });
    const file = mp4(20_000);
    const res = await gwWith(
      {},
      "/api/v1/files/upload/stream",
      form(token, file, { fields: { uploadPath: "refs" }, fieldsAfter: { fileName: "dance.mp4" } }),
    );
    expect(res.status).toBe(200);
    const body = await envelope(res);
    const [stored] = [...sim.files.files.values()];
    // Fields before and after the file both reach EvoLink (the one after it once the file is through).
    expect(stored).toMatchObject({
      file_size: 20_000,
      mime_type: "video/mp4",
      upload_path: "refs",
      file_name: "dance.mp4",
    });
    expect(body).toMatchObject({ success: true, code: 200 });
    expect(body.data).toMatchObject({
      file_url: stored!.file_url,
      file_size: 20_000,
      mime_type: "video/mp4",
    });
    expect(body.data!.file_id).toMatch(/^file_[a-z2-7]+$/);
    expect(body.data!.file_id).not.toBe(stored!.file_id);
    const [call] = callsTo(FILES_HOST);
    expect(call!.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    expect(call!.headers.authorization).not.toContain(token);
    expect(call!.headers["content-type"]).toMatch(/^multipart\/form-data; boundary=/);
  });

  it("EvoLink receives every byte intact (a multi-megabyte file, read and sent through reused buffers)", async () => {
    const { sim } = startSimulator();
    let received: Uint8Array | null = null;
    route(FILES_HOST, async (req) => {
      const file = (await req.clone().formData()).get("file") as File;
      received = new Uint8Array(await file.arrayBuffer());
      return sim.fetch(req);
    });
    const t = await createTenant();
    const file = mp4(3 * 1024 * 1024 + 333);
    for (let i = 0; i < file.length; i += 4099) file[i] = (i * 7) & 0xff; // no repeating pattern to hide a shift
    file.set([0, 0, 0, 24, 0x66, 0x74, 0x79, 0x70], 0);
    const res = await gwWith({}, "/api/v1/files/upload/stream", form(await t.token(), file));
    expect(res.status).toBe(200);
    expect(received).not.toBeNull();
    expect(received!.length).toBe(file.length);
    const got = received as unknown as Uint8Array;
    let firstDiff = -1;
    for (let i = 0; i < file.length && firstDiff === -1; i++) if (got[i] !== file[i]) firstDiff = i;
    expect(firstDiff).toBe(-1);
  });

  it("base64 uploads reach EvoLink as a stream upload; url uploads as EvoLink's own url upload", async () => {
    const sim = setUp();
    const t = await createTenant();
    const token = await t.token();
    expect((await gwWith({}, "/api/v1/files/upload/base64", base64Body(token, mp4(3000)))).status).toBe(200);
    const url = await gwWith(
      {},
      "/api/v1/files/upload/url",
      jsonBody(token, { file_url: "https://cdn.acme.example/ref.mp4", file_name: "ref.mp4" }),
    );
    expect(url.status).toBe(200);
    expect((await envelope(url)).data).toMatchObject({ mime_type: "video/mp4", file_name: "ref.mp4" });
    expect(sim.files.files.size).toBe(2);
    const paths = callsTo(FILES_HOST).map((c) => new URL(c.url).pathname);
    expect(paths).toEqual(["/api/v1/files/upload/stream", "/api/v1/files/upload/url"]);
    expect(JSON.parse(callsTo(FILES_HOST)[1]!.body)).toEqual({
      file_url: "https://cdn.acme.example/ref.mp4",
      file_name: "ref.mp4",
    });
  });

  it("deleting a file deletes it at EvoLink too", async () => {
    const sim = setUp();
    const t = await createTenant();
    const token = await t.token();
    const up = await envelope(await gwWith({}, "/api/v1/files/upload/stream", form(token, mp4(500))));
    const del = await gwWith({}, `/api/v1/files/${up.data!.file_id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${token}` },
    });
    expect(del.status).toBe(200);
    expect(sim.files.files.size).toBe(0);
  });

  it.each([
    [500, 502, "upstream_error"],
    [401, 503, "upstream_unavailable"],
    [402, 503, "upstream_unavailable"],
    [429, 429, "upstream_rate_limited"],
  ] as const)(
    "EvoLink answering %i is a %i %s in both envelopes, and the slot is released",
    async (status, expected, code) => {
      const sim = setUp();
      sim.inject({ files: { status, count: 1 } });
      const t = await createTenant(hsTenant({ quotas: { max_files: 1 } }));
      const token = await t.token();
      const res = await gwWith({}, "/api/v1/files/upload/stream", form(token, mp4(500)));
      expect(res.status).toBe(expected);
      const body = await envelope(res);
      expect(body).toMatchObject({ success: false, code: expected, error: { code } });
      expect(body.msg).toBe(body.error!.message);
      expect(JSON.stringify(body)).not.toContain(UPSTREAM_KEY);
      // The failed upload did not keep the tenant's only slot.
      expect((await gwWith({}, "/api/v1/files/upload/stream", form(token, mp4(500)))).status).toBe(200);
    },
  );

  it("the quota is the room left in EvoLink's account, bounded by the tenant's own limits; never -1", async () => {
    const { sim } = startSimulator({ filesMaxFiles: 3 });
    routeFiles(sim);
    const quota = async (token: string) => {
      const res = await gwWith({}, "/api/v1/files/quota", { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
      const body = await envelope(res);
      if (contract)
        expect(validateWith(contract, "files/openapi-files-quota.json", "QuotaResponse", body)).toEqual([]);
      for (const n of ["used_files", "max_files", "remain_files"] as const)
        expect(body.data![n], n).toBeGreaterThanOrEqual(0);
      return body.data;
    };
    const open = await createTenant();
    const openToken = await open.token();
    expect((await gwWith({}, "/api/v1/files/upload/stream", form(openToken, mp4(500)))).status).toBe(200);
    // EvoLink's account keeps 3 files and holds 1: the tenant without a limit may upload 2 more.
    expect(await quota(openToken)).toEqual({
      user_group: "user",
      used_files: 1,
      max_files: 3,
      remain_files: 2,
      is_custom: false,
      quota_reason: "",
    });
    const [call] = callsTo(FILES_HOST).filter((c) => c.url.endsWith("/api/v1/files/quota"));
    expect(call!.headers.authorization).toBe(`Bearer ${UPSTREAM_KEY}`);
    // Another tenant shares the account's room but not its count: its own files are 0.
    const other = await createTenant(hsTenant({ quotas: { max_files: 10 } }));
    expect(await quota(await other.token({ sub: null }))).toMatchObject({
      user_group: "tenant",
      used_files: 0,
      max_files: 2,
      remain_files: 2,
      is_custom: false,
    });
    // A tenant limit tighter than the account's room is the one shown.
    const tight = await createTenant(hsTenant({ quotas: { max_files: 1 } }));
    expect(await quota(await tight.token({ sub: null }))).toEqual({
      user_group: "tenant",
      used_files: 0,
      max_files: 1,
      remain_files: 1,
      is_custom: true,
      quota_reason: "the tenant's max_files",
    });
    // The account full: nothing more can be uploaded, and the quota says so.
    expect((await gwWith({}, "/api/v1/files/upload/stream", form(openToken, mp4(500)))).status).toBe(200);
    expect((await gwWith({}, "/api/v1/files/upload/stream", form(openToken, mp4(500)))).status).toBe(200);
    expect(await quota(openToken)).toMatchObject({ used_files: 3, max_files: 3, remain_files: 0 });
    expect(await quota(await tight.token({ sub: null }))).toMatchObject({ max_files: 0, remain_files: 0 });
  });

  it("EvoLink failing to answer its quota is an upstream error in both envelopes", async () => {
    const sim = setUp();
    sim.inject({ files: { status: 500, count: 1 } });
    const t = await createTenant();
    const res = await gwWith({}, "/api/v1/files/quota", {
      headers: { authorization: `Bearer ${await t.token()}` },
    });
    expect(res.status).toBe(502);
    expect(await envelope(res)).toMatchObject({
      success: false,
      code: 502,
      error: { code: "upstream_error" },
    });
  });

  it("a slow files API still answers; the delay is the simulator's, not a buffering of the file", async () => {
    const sim = setUp();
    sim.inject({ filesDelayMs: 50 });
    const t = await createTenant();
    const res = await gwWith({}, "/api/v1/files/upload/stream", form(await t.token(), mp4(500)));
    expect(res.status).toBe(200);
    expect(sim.files.files.size).toBe(1);
  });
});

describe.skipIf(!contract)(
  `the files API against EvoLink's OpenAPI files (${contract ? "on" : NO_CONTRACT})`,
  () => {
    const docs = contract as Record<string, unknown>;

    it("upload answers validate as FileUploadResponse (both backends), the quota answer as QuotaResponse", async () => {
      const sim = setUp();
      const t = await createTenant();
      const token = await t.token();
      const answers = [
        await gwWith({}, "/api/v1/files/upload/stream", form(token, mp4(700))),
        await gwWith({ FILES_BACKEND: "r2" }, "/api/v1/files/upload/stream", form(token, mp4(700))),
        await gwWith({ FILES_BACKEND: "r2" }, "/api/v1/files/upload/base64", base64Body(token, mp4(700))),
      ];
      for (const res of answers) {
        expect(res.status).toBe(200);
        expect(
          validateWith(
            docs,
            "files/openapi-files-upload-stream.json",
            "FileUploadResponse",
            await res.json(),
          ),
        ).toEqual([]);
      }
      const quota = await (
        await gwWith({}, "/api/v1/files/quota", { headers: { authorization: `Bearer ${token}` } })
      ).json();
      expect(validateWith(docs, "files/openapi-files-quota.json", "QuotaResponse", quota)).toEqual([]);
      expect(sim.files.files.size).toBe(1);
    });

    it("what the gateway sends for a url upload validates as UrlUploadRequest", async () => {
      setUp();
      const t = await createTenant();
      await gwWith(
        {},
        "/api/v1/files/upload/url",
        jsonBody(await t.token(), { file_url: "https://cdn.acme.example/a.mp4", upload_path: "x" }),
      );
      const [call] = callsTo(FILES_HOST);
      expect(
        validateWith(docs, "files/openapi-files-upload-url.json", "UrlUploadRequest", JSON.parse(call!.body)),
      ).toEqual([]);
    });

    it("the simulator refuses a base64 body that breaks Base64UploadRequest", async () => {
      const sim = setUp();
      const res = await sim.fetch(
        new Request(`https://${FILES_HOST}/api/v1/files/upload/base64`, {
          method: "POST",
          headers: { authorization: `Bearer ${UPSTREAM_KEY}`, "content-type": "application/json" },
          body: JSON.stringify({ base64_data: 42 }),
        }),
      );
      expect(res.status).toBe(400);
      expect(await res.json()).toMatchObject({
        success: false,
        code: 400,
        msg: expect.stringContaining("base64_data"),
      });
    });
  },
);
