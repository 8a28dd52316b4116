// Range requests on a signed file URL (FILES_BACKEND=r2) through the real app: a range the file can serve
// gets its bytes (206), one past its end gets 416 with the file's size, as RFC 9110 says and the OpenAPI
// document lists (gwWith holds every answer to it).
import { describe, expect, it } from "vitest";
import { createTenant } from "../fixtures/tenants";
import { GATEWAY } from "../helpers/gateway";
import { DOCUMENTS } from "../helpers/openapi";
import { envelope, form, gwWith, mp4 } from "./helpers";

const R2 = { FILES_BACKEND: "r2" };
const SIZE = 1000;

async function uploaded(): Promise<{ path: string; file: Uint8Array }> {
  const t = await createTenant();
  const file = mp4(SIZE);
  const res = await gwWith(R2, "/api/v1/files/upload/stream", form(await t.token(), file));
  expect(res.status).toBe(200);
  return { path: (await envelope(res)).data!.file_url.slice(GATEWAY.length), file };
}

const get = (path: string, range: string) => gwWith(R2, path, { headers: { range } });

describe("Range on a signed file URL", () => {
  it.each(["bytes=5000-", `bytes=${SIZE}-`, `bytes=${SIZE}-${SIZE + 10}`, "bytes=-0"])(
    "%s is 416 with Content-Range bytes */size and no body",
    async (range) => {
      const { path } = await uploaded();
      const res = await get(path, range);
      expect(res.status).toBe(416);
      expect(res.headers.get("content-range")).toBe(`bytes */${SIZE}`);
      expect(await res.text()).toBe("");
    },
  );

  it("a range that ends past the file but starts inside it is served up to its end (206)", async () => {
    const { path, file } = await uploaded();
    const res = await get(path, `bytes=${SIZE - 1}-${SIZE + 50}`);
    expect(res.status).toBe(206);
    expect(res.headers.get("content-range")).toBe(`bytes ${SIZE - 1}-${SIZE - 1}/${SIZE}`);
    expect(new Uint8Array(await res.arrayBuffer())).toEqual(file.subarray(SIZE - 1));
  });

  it("a header it cannot read, or one asking for several ranges, is not refused: the whole file", async () => {
    const { path, file } = await uploaded();
    for (const range of ["bytes=0-1,5-6", "items=0-5", "bytes=9-3"]) {
      const res = await get(path, range);
      expect(res.status, range).not.toBe(416);
      expect(new Uint8Array(await res.arrayBuffer()), range).toEqual(file);
    }
  });

  it("the OpenAPI document lists the 416, with its Content-Range", () => {
    const op = (DOCUMENTS.tenant.paths as Record<string, Record<string, any>>)["/files/{token}/{name}"]!.get;
    expect(Object.keys(op.responses["416"].headers)).toContain("Content-Range");
  });
});
