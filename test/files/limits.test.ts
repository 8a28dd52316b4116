// The checks applied while an upload streams, through the real app: MAX_UPLOAD_BYTES at exactly the limit
// and one byte more (multipart and base64), a declared Content-Length over the cap, the type read from
// the first bytes (a mislabelled or unknown file is a 415), and `file_url`'s SSRF rules.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { createTenant } from "../fixtures/tenants";
import { callsTo, route } from "../helpers/outbound";
import { startSimulator } from "../helpers/gateway";
import { base64Body, envelope, FILES_HOST, form, gwWith, jsonBody, mp4, PNG, routeFiles } from "./helpers";

const CAP = 4096;
const R2 = { FILES_BACKEND: "r2", MAX_UPLOAD_BYTES: String(CAP) };

async function liveFiles(tenantId: string): Promise<number> {
  const list = await env.UPLOADS!.list({ prefix: `files/${tenantId}/` });
  return list.objects.length;
}

describe("the size cap", () => {
  it("takes a multipart file of exactly MAX_UPLOAD_BYTES and refuses one byte more with 413, storing nothing", async () => {
    const t = await createTenant();
    const token = await t.token();
    expect((await gwWith(R2, "/api/v1/files/upload/stream", form(token, mp4(CAP)))).status).toBe(200);
    const res = await gwWith(R2, "/api/v1/files/upload/stream", form(token, mp4(CAP + 1)));
    expect(res.status).toBe(413);
    const body = await envelope(res);
    expect(body).toMatchObject({
      success: false,
      code: 413,
      msg: `File must be at most ${CAP} bytes`,
      error: {
        code: "payload_too_large",
        message: `File must be at most ${CAP} bytes`,
        type: "invalid_request_error",
      },
    });
    expect(await liveFiles(t.id)).toBe(1);
    const quota = await envelope(
      await gwWith(R2, "/api/v1/files/quota", { headers: { authorization: `Bearer ${token}` } }),
    );
    expect(quota.data).toMatchObject({ used_files: 1 });
  });

  it("does the same for base64 uploads", async () => {
    const t = await createTenant();
    const token = await t.token();
    expect((await gwWith(R2, "/api/v1/files/upload/base64", base64Body(token, mp4(CAP)))).status).toBe(200);
    const res = await gwWith(R2, "/api/v1/files/upload/base64", base64Body(token, mp4(CAP + 1)));
    expect(res.status).toBe(413);
    expect((await envelope(res)).error?.code).toBe("payload_too_large");
    expect(await liveFiles(t.id)).toBe(1);
  });

  it("refuses a declared Content-Length over the cap before reading the body", async () => {
    const t = await createTenant();
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(1024));
        if (pulled > 100) controller.close();
      },
    });
    const res = await gwWith(R2, "/api/v1/files/upload/stream", {
      method: "POST",
      headers: {
        authorization: `Bearer ${await t.token()}`,
        "content-type": "multipart/form-data; boundary=xyz",
        "content-length": String(CAP * 1000),
      },
      body,
      duplex: "half",
    } as RequestInit);
    expect(res.status).toBe(413);
    expect(pulled).toBeLessThanOrEqual(1);
  });

  it("counts the bytes as they stream with the EvoLink backend too: nothing past the cap reaches EvoLink whole", async () => {
    const { sim } = startSimulator();
    routeFiles(sim);
    const t = await createTenant();
    const res = await gwWith(
      { MAX_UPLOAD_BYTES: String(CAP) },
      "/api/v1/files/upload/stream",
      form(await t.token(), mp4(CAP + 1)),
    );
    expect(res.status).toBe(413);
    expect(sim.files.files.size).toBe(0);
    expect(sim.files.files.size).toBe(0);
  });
});

describe("the form", () => {
  it("a second file or an unknown field after the file is a 400, and nothing stays stored", async () => {
    const t = await createTenant();
    const token = await t.token();
    for (const after of [{ file: "again" }, { colour: "red" }] as Record<string, string>[]) {
      const res = await gwWith(
        R2,
        "/api/v1/files/upload/stream",
        form(token, mp4(500), { fieldsAfter: after }),
      );
      expect(res.status).toBe(400);
      expect((await envelope(res)).error?.code).toBe("invalid_request");
    }
    expect(await liveFiles(t.id)).toBe(0);
    const quota = await envelope(
      await gwWith(R2, "/api/v1/files/quota", { headers: { authorization: `Bearer ${token}` } }),
    );
    expect(quota.data).toMatchObject({ used_files: 0 });
  });
});

describe("the type, from the first bytes", () => {
  it("refuses a PNG declared as video/mp4, an MP4 declared as an image, and a text file, with 415", async () => {
    const t = await createTenant();
    const token = await t.token();
    const cases: [Uint8Array, string][] = [
      [PNG, "video/mp4"],
      [mp4(100), "image/png"],
      [new TextEncoder().encode("#!/bin/sh\necho not a video\n"), "video/mp4"],
    ];
    for (const [bytes, type] of cases) {
      for (const res of [
        await gwWith(R2, "/api/v1/files/upload/stream", form(token, bytes, { type })),
        await gwWith(R2, "/api/v1/files/upload/base64", base64Body(token, bytes, type)),
      ]) {
        expect(res.status).toBe(415);
        const body = await envelope(res);
        expect(body).toMatchObject({ success: false, code: 415, error: { code: "unsupported_media_type" } });
      }
    }
    expect(await liveFiles(t.id)).toBe(0);
    // An undeclared (octet-stream) MP4 is fine: the bytes decide.
    const ok = await gwWith(
      R2,
      "/api/v1/files/upload/stream",
      form(token, mp4(100), { type: "application/octet-stream" }),
    );
    expect(ok.status).toBe(200);
    expect((await envelope(ok)).data?.mime_type).toBe("video/mp4");
  });

  it("refuses a mislabelled file before anything is sent to EvoLink", async () => {
    const t = await createTenant();
    const res = await gwWith(
      {},
      "/api/v1/files/upload/stream",
      form(await t.token(), PNG, { type: "video/mp4" }),
    );
    expect(res.status).toBe(415);
    expect(callsTo(FILES_HOST)).toHaveLength(0);
  });
});

describe("file_url", () => {
  const SPELLINGS = [
    "http://127.0.0.1/clip.mp4",
    "http://0x7f.1/clip.mp4",
    "http://2130706433/clip.mp4",
    "http://[::1]/clip.mp4",
    "http://[::ffff:7f00:1]/clip.mp4",
    "http://localhost/clip.mp4",
    "http://10.0.0.7/clip.mp4",
    "http://192.168.1.1/clip.mp4",
    "http://169.254.169.254/latest/meta-data",
    "http://[fe80::1]/clip.mp4",
    "http://metadata.internal/clip.mp4",
    "https://user:pass@cdn.acme.example/clip.mp4",
    "ftp://cdn.acme.example/clip.mp4",
  ];

  it("refuses private, loopback and link-local hosts in any spelling, and credentials, on both backends", async () => {
    const t = await createTenant();
    const token = await t.token();
    for (const vars of [{}, R2]) {
      for (const url of SPELLINGS) {
        const res = await gwWith(vars, "/api/v1/files/upload/url", jsonBody(token, { file_url: url }));
        expect(res.status, url).toBe(400);
        const body = await envelope(res);
        expect(body.error).toMatchObject({ code: "invalid_request", param: "file_url" });
        expect(body.code).toBe(400);
      }
    }
    expect(callsTo()).toHaveLength(0);
  });
});

describe("file_url downloads by the gateway (R2 backend)", () => {
  it("downloads, sniffs and stores the file; a redirect to a forbidden host is refused", async () => {
    const file = mp4(3000);
    route("cdn.acme.example", (req) => {
      const path = new URL(req.url).pathname;
      if (path === "/ref.mp4") return new Response(file, { headers: { "content-type": "video/mp4" } });
      if (path === "/moved.mp4")
        return new Response(null, { status: 302, headers: { location: "/ref.mp4" } });
      if (path === "/sneaky.mp4")
        return new Response(null, { status: 302, headers: { location: "http://169.254.169.254/latest" } });
      if (path === "/page.mp4") return new Response("<html>", { headers: { "content-type": "text/html" } });
      return new Response("no", { status: 404 });
    });
    const t = await createTenant();
    const token = await t.token();
    for (const url of ["https://cdn.acme.example/ref.mp4", "https://cdn.acme.example/moved.mp4"]) {
      const res = await gwWith(R2, "/api/v1/files/upload/url", jsonBody(token, { file_url: url }));
      expect(res.status).toBe(200);
      expect((await envelope(res)).data).toMatchObject({
        file_size: 3000,
        mime_type: "video/mp4",
        file_name: "ref.mp4",
      });
    }
    const sneaky = await gwWith(
      R2,
      "/api/v1/files/upload/url",
      jsonBody(token, { file_url: "https://cdn.acme.example/sneaky.mp4" }),
    );
    expect(sneaky.status).toBe(400);
    expect((await envelope(sneaky)).error).toMatchObject({ code: "invalid_request", param: "file_url" });
    const page = await gwWith(
      R2,
      "/api/v1/files/upload/url",
      jsonBody(token, { file_url: "https://cdn.acme.example/page.mp4" }),
    );
    expect(page.status).toBe(415);
    const missing = await gwWith(
      R2,
      "/api/v1/files/upload/url",
      jsonBody(token, { file_url: "https://cdn.acme.example/gone.mp4" }),
    );
    expect(missing.status).toBe(400);
    expect(callsTo("169.254.169.254")).toHaveLength(0);
    expect(await liveFiles(t.id)).toBe(2);
  });
});

describe("the simulator's files faults", () => {
  it("are parsed strictly like the others", async () => {
    const { sim } = startSimulator();
    expect(() => sim.inject({ files: { status: 418 } })).toThrow(/files.status/);
    expect(() => sim.inject({ hangFiles: "yes" })).toThrow(/hangFiles/);
    sim.inject({ files: { status: 429, count: 1, retryAfterSeconds: 7 }, filesDelayMs: 1 });
    routeFiles(sim);
    const t = await createTenant();
    const res = await gwWith({}, "/api/v1/files/upload/stream", form(await t.token(), mp4(100)));
    expect(res.status).toBe(429);
    expect(res.headers.get("retry-after")).toBe("7");
  });
});

describe("base64 bodies, decoded while they stream", () => {
  const b64 = (bytes: Uint8Array) => {
    let s = "";
    for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
    return btoa(s);
  };
  const post = async (token: string, raw: string, vars: Record<string, string> = R2) =>
    gwWith(vars, "/api/v1/files/upload/base64", {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: raw,
    });

  it("takes fields before and after base64_data, JSON's \\/ escape, and a multi-megabyte file intact", async () => {
    const t = await createTenant();
    const token = await t.token();
    const file = mp4(2 * 1024 * 1024 + 1);
    for (let i = 40; i < file.length; i += 997) file[i] = (i * 13) & 0xff;
    const encoded = JSON.stringify(`data:video/mp4;base64,${b64(file)}`).replace(/\//g, "\\/");
    const res = await post(
      token,
      ` {"upload_path" : "refs", "base64_data":${encoded} ,"file_name":"big.mp4"} `,
      {
        FILES_BACKEND: "r2",
      },
    );
    expect(res.status).toBe(200);
    const { data } = await envelope(res);
    expect(data).toMatchObject({ file_size: file.length, upload_path: "refs", file_name: "big.mp4" });
    const stored = await env.UPLOADS!.get(`files/${t.id}/${data!.file_id}`);
    expect(new Uint8Array(await stored!.arrayBuffer())).toEqual(file);
  });

  it("refuses what is not base64 or not the documented object, storing nothing", async () => {
    const t = await createTenant();
    const token = await t.token();
    const good = b64(mp4(64));
    const cases: [string, string][] = [
      [`{"base64_data":"${good.slice(0, 20)}*${good.slice(21)}"}`, "base64_data"],
      [`{"base64_data":"${good}=="}`, "base64_data"],
      [`{"base64_data":"data:video/mp4,${good}"}`, "base64_data"],
      [`{"base64_data":"${good}","colour":"red"}`, "colour"],
      [`{"base64_data":42}`, "base64_data"],
      [`{"file_name":"a.mp4"}`, "base64_data"],
      [`{"base64_data":"${good}"`, ""],
      [`{"base64_data":"${good}"} trailing`, ""],
    ];
    for (const [raw, param] of cases) {
      const res = await post(token, raw);
      expect(res.status, raw.slice(0, 60)).toBe(400);
      const body = await envelope(res);
      expect(body.error?.code).toBe("invalid_request");
      if (param) expect((body.error as Record<string, unknown>).param).toBe(param);
    }
    expect(await liveFiles(t.id)).toBe(0);
    expect((await post(token, `{"base64_data":"${good}"}`)).status).toBe(200);
  });
});
