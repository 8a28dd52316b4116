// The /__sim control API (what the local dev loop and the gateway's tests use over HTTP) and the sim
// Worker's reading of its vars.
import { describe, expect, it } from "vitest";
import { optionsFromEnv } from "../../sim/src/host";
import { createRequest, createTask, makeSim, validBody } from "./helpers";

const SIM = "http://127.0.0.1:8788";

function control(method: string, path: string, body?: unknown): Request {
  return new Request(`${SIM}${path}`, { method, ...(body !== undefined && { body: JSON.stringify(body) }) });
}

describe("/__sim control API", () => {
  it("injects faults with the same JSON as inject(), and refuses bad JSON with 400", async () => {
    const { sim } = makeSim();
    const res = await sim.fetch(control("POST", "/__sim/faults", { create: { status: 402, count: 1 } }));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ create: { status: 402, count: 1 } });
    expect((await sim.fetch(createRequest(validBody()))).status).toBe(402);
    const bad = await sim.fetch(control("POST", "/__sim/faults", { create: { status: 418 } }));
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({
      error: { code: "invalid_request", message: expect.stringContaining("create.status") },
    });
    expect((await sim.fetch(new Request(`${SIM}/__sim/faults`, { method: "POST", body: "{" }))).status).toBe(
      400,
    );
    expect(await (await sim.fetch(control("GET", "/__sim/faults"))).json()).toEqual({});
  });

  it("lists requests (not its own), tasks and callbacks; tick sends due callbacks; reset empties all", async () => {
    const sent: string[] = [];
    const { sim, clock } = makeSim({
      send: async (r) => {
        sent.push(r.url);
        return new Response(null, { status: 204 });
      },
    });
    const id = await createTask(sim, { callback_url: "https://hooks.example.com/cb" });
    const requests = (await (await sim.fetch(control("GET", "/__sim/requests"))).json()) as unknown[];
    expect(requests).toEqual([expect.objectContaining({ method: "POST", path: "/v1/videos/generations" })]);
    clock.advance(5_000);
    const tick = await sim.fetch(control("POST", "/__sim/tick"));
    expect(await tick.json()).toEqual({ ok: true, busy: false });
    expect(sent).toEqual(["https://hooks.example.com/cb"]);
    expect(await (await sim.fetch(control("GET", "/__sim/tasks"))).json()).toEqual([
      expect.objectContaining({ id, status: "completed", outcome: "completed" }),
    ]);
    expect(await (await sim.fetch(control("GET", "/__sim/callbacks"))).json()).toEqual([
      expect.objectContaining({ taskId: id, attempt: 1, status: 204 }),
    ]);
    expect((await sim.fetch(control("POST", "/__sim/reset"))).status).toBe(200);
    expect(await (await sim.fetch(control("GET", "/__sim/tasks"))).json()).toEqual([]);
    expect(await (await sim.fetch(control("GET", "/__sim/requests"))).json()).toEqual([]);
  });

  it("answers an unknown control route with 404", async () => {
    const { sim } = makeSim();
    expect((await sim.fetch(control("DELETE", "/__sim/tasks"))).status).toBe(404);
  });
});

describe("sim Worker vars", () => {
  it("defaults the key, parses the contract JSON text and the flags", () => {
    const options = optionsFromEnv({
      UPSTREAM_CONTRACT: JSON.stringify({ "a.json": { openapi: "3.1.0" } }),
      SIM_ALLOW_LOCAL_CALLBACKS: "true",
      SIM_COMPLETE_AFTER_MS: "2000",
    });
    expect(options).toEqual({
      apiKey: "sim-local-key",
      contract: { "a.json": { openapi: "3.1.0" } },
      allowLocalCallbacks: true,
      timings: { completeAfterMs: 2000 },
    });
    expect(optionsFromEnv({ SIM_API_KEY: "k", UPSTREAM_CONTRACT: "" })).toMatchObject({
      apiKey: "k",
      contract: null,
      allowLocalCallbacks: false,
      timings: {},
    });
  });

  it("refuses malformed vars up front", () => {
    expect(() => optionsFromEnv({ SIM_COMPLETE_AFTER_MS: "soon" })).toThrow("SIM_COMPLETE_AFTER_MS");
    expect(() => optionsFromEnv({ UPSTREAM_CONTRACT: "[]" })).toThrow("UPSTREAM_CONTRACT");
  });
});
