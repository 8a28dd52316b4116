// A files API that never answers (the simulator's `hangFiles` fault): the simulator holds the request until
// its caller gives up, and the gateway gives up after FILE_FETCH_TIMEOUT_MS with 504 `upstream_timeout` in
// both envelopes, keeping neither the file nor the tenant's file slot. The gateway's timeout is ten
// minutes: AbortSignal.timeout is wrapped here to fire after 50 ms instead, and records what was asked.
import { afterEach, describe, expect, it, vi } from "vitest";
import { FILE_FETCH_TIMEOUT_MS } from "../../src/config/constants";
import { createTenant, hsTenant } from "../fixtures/tenants";
import { startSimulator, UPSTREAM_KEY } from "../helpers/gateway";
import { callsTo } from "../helpers/outbound";
import { API_KEY, makeSim } from "../sim/helpers";
import { envelope, FILES_HOST, form, gwWith, mp4, routeFiles } from "./helpers";

const realTimeout = AbortSignal.timeout.bind(AbortSignal);

function settled(promise: Promise<unknown>, ms = 100): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  return new Promise((resolve) => setTimeout(() => resolve(done), ms));
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe("the simulator's hangFiles fault", () => {
  it("holds an upload until the caller aborts, storing nothing; cleared, uploads work again", async () => {
    const { sim } = makeSim();
    sim.inject({ hangFiles: true });
    const upload = (signal?: AbortSignal) => {
      const fd = new FormData();
      fd.append("file", new File([mp4(64)], "a.mp4", { type: "video/mp4" }));
      return sim.fetch(
        new Request(`https://${FILES_HOST}/api/v1/files/upload/stream`, {
          method: "POST",
          headers: { authorization: `Bearer ${API_KEY}` },
          body: fd,
          ...(signal ? { signal } : {}),
        }),
      );
    };
    const controller = new AbortController();
    const pending = upload(controller.signal);
    expect(await settled(pending)).toBe(false);
    controller.abort(new Error("caller gave up"));
    await expect(pending).rejects.toThrow("caller gave up");
    expect(sim.files.files.size).toBe(0);
    sim.inject({ hangFiles: null });
    expect((await upload()).status).toBe(200);
    expect(sim.files.files.size).toBe(1);
  });
});

describe("the gateway when EvoLink's files API hangs", () => {
  it("answers 504 upstream_timeout after FILE_FETCH_TIMEOUT_MS, and the file slot is free again", async () => {
    const timeouts: number[] = [];
    vi.spyOn(AbortSignal, "timeout").mockImplementation((ms: number) => {
      timeouts.push(ms);
      return realTimeout(50);
    });
    const { sim } = startSimulator();
    routeFiles(sim);
    sim.inject({ hangFiles: true });
    const t = await createTenant(hsTenant({ quotas: { max_files: 1 } }));
    const token = await t.token();

    const res = await gwWith({}, "/api/v1/files/upload/stream", form(token, mp4(500)));
    expect(timeouts).toContain(FILE_FETCH_TIMEOUT_MS);
    expect(res.status).toBe(504);
    const body = await envelope(res);
    expect(body).toMatchObject({ success: false, code: 504, error: { code: "upstream_timeout" } });
    expect(body.msg).toBe(body.error!.message);
    expect(JSON.stringify(body)).not.toContain(UPSTREAM_KEY);
    // The request did reach the files API (it hung there), and nothing was stored.
    expect(callsTo(FILES_HOST)).toHaveLength(1);
    expect(sim.files.files.size).toBe(0);

    // The timed-out upload did not keep the tenant's only slot.
    sim.inject({ hangFiles: null });
    expect((await gwWith({}, "/api/v1/files/upload/stream", form(token, mp4(500)))).status).toBe(200);
    expect(sim.files.files.size).toBe(1);
  });
});
