// The base64 upload's JSON around the file: everything that is not base64_data's value (whitespace, the other
// members) is capped at FILE_JSON_OVERHEAD_BYTES and scanned a chunk at a time, so padding cannot keep an
// upload (and its file slot) spinning one byte per await.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { FILE_JSON_OVERHEAD_BYTES } from "../../src/config/constants";
import { openBase64Json } from "../../src/files/base64-json";
import { createTenant } from "../fixtures/tenants";
import { envelope, gwWith, mp4 } from "./helpers";

const R2 = { FILES_BACKEND: "r2" };
const CAPPED = `The body around base64_data's value must be at most ${FILE_JSON_OVERHEAD_BYTES} bytes`;

function b64(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return btoa(s);
}

const post = (token: string, raw: string) =>
  gwWith(R2, "/api/v1/files/upload/base64", {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: raw,
  });

async function liveFiles(tenantId: string): Promise<number> {
  return (await env.UPLOADS!.list({ prefix: `files/${tenantId}/` })).objects.length;
}

describe("the JSON around base64_data", () => {
  const data = `"data:video/mp4;base64,${b64(mp4(3000))}"`;
  const pad = (n: number) => " \n\t\r".repeat(Math.ceil(n / 4)).slice(0, n);

  it("refuses a megabyte of whitespace before or after the file with a 400, storing nothing", async () => {
    const t = await createTenant();
    const token = await t.token();
    for (const raw of [
      `{${pad(1 << 20)}"base64_data":${data}}`,
      `{"base64_data":${data}${pad(1 << 20)}}`,
      `{"file_name":"a.mp4"${pad(40_000)},"upload_path":${pad(40_000)}"refs","base64_data":${data}}`,
    ]) {
      const res = await post(token, raw);
      expect(res.status).toBe(400);
      expect(await envelope(res)).toMatchObject({
        success: false,
        code: 400,
        msg: CAPPED,
        error: { code: "invalid_request", message: CAPPED },
      });
    }
    expect(await liveFiles(t.id)).toBe(0);
  });

  it("takes whitespace and fields up to the cap, the file not counted", async () => {
    const t = await createTenant();
    const around = `{${pad(30_000)}"file_name":"a.mp4",${pad(30_000)}"base64_data":${data}${pad(4_000)}}`;
    expect(around.length - data.length).toBeGreaterThan(FILE_JSON_OVERHEAD_BYTES - 2_000);
    const res = await post(await t.token(), around);
    expect(res.status).toBe(200);
    expect((await envelope(res)).data).toMatchObject({ file_size: 3000, file_name: "a.mp4" });
  });

  it("reads whitespace a chunk at a time, not one byte per await", async () => {
    const body = new TextEncoder().encode(`{${pad(60_000)}"file_name":"a.mp4","base64_data":${data}}`);
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(body);
        controller.close();
      },
    });
    // Counts the microtask turns the parse takes: a byte-per-await reader needs one per whitespace byte.
    let turns = 0;
    let parsing = true;
    const ticker = (async () => {
      while (parsing && turns < 1_000_000) {
        turns++;
        await null;
      }
    })();
    const source = await openBase64Json(stream);
    for await (const _ of source.chunks);
    expect(await source.trailing!()).toEqual({});
    parsing = false;
    await ticker;
    expect(source.fields).toEqual({ fileName: "a.mp4" });
    expect(turns).toBeLessThan(1_000);
  });
});
