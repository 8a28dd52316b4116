// The simulator's files API on its own: EvoLink's envelopes, its key, strict fields and types, the 100 MB
// limit, list and delete, and its answers checked against files/*.json when the contract is at hand.
import { describe, expect, it } from "vitest";
import { validateWith } from "../../sim/src/contract";
import { API_KEY, contract, makeSim } from "./helpers";

const BASE = "https://files-api.evolink.test/api/v1/files";
const auth = { authorization: `Bearer ${API_KEY}` };

function streamUpload(
  fields: Record<string, string | File>,
  headers: Record<string, string> = auth,
): Request {
  const fd = new FormData();
  for (const [k, v] of Object.entries(fields)) fd.append(k, v);
  return new Request(`${BASE}/upload/stream`, { method: "POST", headers, body: fd });
}

const mp4 = () =>
  new File([new Uint8Array([0, 0, 0, 24, 102, 116, 121, 112])], "a.mp4", { type: "video/mp4" });

describe("simulator files API", () => {
  it("uploads, lists, quotas and deletes with EvoLink's envelope", async () => {
    const { sim } = makeSim();
    const res = await sim.fetch(streamUpload({ file: mp4(), upload_path: "refs" }));
    expect(res.status).toBe(200);
    const body = (await res.json()) as { success: boolean; data: { file_id: string } };
    expect(body).toMatchObject({ success: true, code: 200, data: { upload_path: "refs", file_size: 8 } });
    if (contract)
      expect(
        validateWith(contract, "files/openapi-files-upload-stream.json", "FileUploadResponse", body),
      ).toEqual([]);
    const list = (await (
      await sim.fetch(new Request(`${BASE}/list?page=1&pageSize=5`, { headers: auth }))
    ).json()) as {
      data: { total: number };
    };
    expect(list.data.total).toBe(1);
    const quota = await (await sim.fetch(new Request(`${BASE}/quota`, { headers: auth }))).json();
    expect(quota).toMatchObject({ data: { used_files: 1, max_files: 2000, remain_files: 1999 } });
    if (contract)
      expect(validateWith(contract, "files/openapi-files-quota.json", "QuotaResponse", quota)).toEqual([]);
    const del = await sim.fetch(
      new Request(`${BASE}/${body.data.file_id}`, { method: "DELETE", headers: auth }),
    );
    expect(del.status).toBe(200);
    expect(
      (await sim.fetch(new Request(`${BASE}/${body.data.file_id}`, { method: "DELETE", headers: auth })))
        .status,
    ).toBe(404);
  });

  it("keeps filesMaxFiles files at once: its quota answer says so (QuotaResponse) and the next upload is refused", async () => {
    const { sim } = makeSim({ filesMaxFiles: 1 });
    expect((await sim.fetch(streamUpload({ file: mp4() }))).status).toBe(200);
    const quota = await (await sim.fetch(new Request(`${BASE}/quota`, { headers: auth }))).json();
    expect(quota).toMatchObject({ data: { used_files: 1, max_files: 1, remain_files: 0, is_custom: true } });
    if (contract)
      expect(validateWith(contract, "files/openapi-files-quota.json", "QuotaResponse", quota)).toEqual([]);
    expect((await sim.fetch(streamUpload({ file: mp4() }))).status).toBe(403);
  });

  it("refuses a wrong key, unknown fields, unsupported types and oversize files, in the files envelope", async () => {
    const { sim } = makeSim({ filesMaxBytes: 4 });
    const cases: [Request, number][] = [
      [streamUpload({ file: mp4() }, { authorization: "Bearer nope" }), 401],
      [streamUpload({ file: mp4(), colour: "red" }), 400],
      [streamUpload({ file: new File(["#!"], "x.sh", { type: "text/x-sh" }) }), 400],
      [streamUpload({ file: mp4() }), 413],
    ];
    for (const [request, status] of cases) {
      const res = await sim.fetch(request);
      expect(res.status).toBe(status);
      expect(await res.json()).toMatchObject({ success: false, code: status, msg: expect.any(String) });
    }
    expect(sim.files.files.size).toBe(0);
  });
});
