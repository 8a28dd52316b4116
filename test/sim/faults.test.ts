// Fault injection: each injected status in the endpoint's documented wording (Retry-After on 429), counts,
// real-time delays, hangs that end only when the caller aborts, and strict parsing of the faults JSON.
import { describe, expect, it } from "vitest";
import type { FaultStatus } from "../../sim/src/types";
import { createRequest, createTask, errorOf, makeSim, queryRequest, validBody } from "./helpers";

const CREATE: Array<[FaultStatus, string, string]> = [
  [401, "unauthorized", "authentication_error"],
  [402, "insufficient_quota", "insufficient_quota"],
  [403, "model_access_denied", "invalid_request_error"],
  [429, "rate_limit_exceeded", "rate_limit_error"],
  [500, "internal_error", "api_error"],
  [503, "service_unavailable", "service_unavailable_error"],
];
const QUERY: Array<[FaultStatus, string, string]> = [
  [401, "unauthorized", "authentication_error"],
  [402, "quota_exceeded", "insufficient_quota"],
  [403, "permission_denied", "invalid_request_error"],
  [429, "rate_limit_exceeded", "evo_api_error"],
  [500, "internal_error", "api_error"],
  [503, "service_unavailable", "service_unavailable_error"],
];

function settled(promise: Promise<unknown>): Promise<boolean> {
  let done = false;
  promise.then(
    () => (done = true),
    () => (done = true),
  );
  return new Promise((resolve) => setTimeout(() => resolve(done), 50));
}

describe("injected statuses", () => {
  it.each(CREATE)(
    "create answers an injected %i as %s / %s, without creating a task",
    async (status, code, type) => {
      const { sim } = makeSim();
      sim.inject({ create: { status } });
      const res = await sim.fetch(createRequest(validBody()));
      expect(res.status).toBe(status);
      expect(await errorOf(res)).toEqual({ code, message: expect.any(String), type });
      expect(res.headers.get("retry-after")).toBe(status === 429 ? "60" : null);
      expect(sim.tasks()).toHaveLength(0);
    },
  );

  it.each(QUERY)("query answers an injected %i as %s / %s", async (status, code, type) => {
    const { sim } = makeSim();
    const id = await createTask(sim);
    sim.inject({ query: { status } });
    const res = await sim.fetch(queryRequest(id));
    expect(res.status).toBe(status);
    expect(await errorOf(res)).toEqual({ code, message: expect.any(String), type });
    expect(res.headers.get("retry-after")).toBe(status === 429 ? "60" : null);
  });

  it("sends the configured Retry-After and clears a fault after `count` requests", async () => {
    const { sim } = makeSim();
    sim.inject({ create: { status: 429, count: 2, retryAfterSeconds: 3 } });
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await sim.fetch(createRequest(validBody())));
    expect(answers.map((r) => r.status)).toEqual([429, 429, 200]);
    expect(answers[0]?.headers.get("retry-after")).toBe("3");
    expect(sim.faults.create).toBeUndefined();
  });

  it("keeps a fault without count until it is cleared with null, and leaves the other endpoint alone", async () => {
    const { sim } = makeSim();
    const id = await createTask(sim);
    sim.inject({ create: { status: 500 } });
    expect((await sim.fetch(createRequest(validBody()))).status).toBe(500);
    expect((await sim.fetch(createRequest(validBody()))).status).toBe(500);
    expect((await sim.fetch(queryRequest(id))).status).toBe(200);
    sim.inject({ create: null } as never);
    expect((await sim.fetch(createRequest(validBody()))).status).toBe(200);
  });
});

describe("delays and hangs", () => {
  it("delays a create by createDelayMs of real time", async () => {
    const { sim } = makeSim();
    sim.inject({ createDelayMs: 120 });
    const started = Date.now();
    const res = await sim.fetch(createRequest(validBody()));
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });

  it("answers a create createAnswerDelayMs after making the task: a caller gone by then leaves it behind", async () => {
    const { sim } = makeSim();
    sim.inject({ createAnswerDelayMs: 5_000 });
    const controller = new AbortController();
    const pending = sim.fetch(
      createRequest(validBody(), { "idempotency-key": "answer-lost-0001" }, { signal: controller.signal }),
    );
    expect(await settled(pending)).toBe(false);
    expect(sim.tasks()).toHaveLength(1); // made before the answer
    controller.abort(new Error("caller died"));
    await pending.catch(() => {});
    sim.inject({ createAnswerDelayMs: null });
    // The caller's retry with its key gets the task that was made, not a second one.
    const retry = await sim.fetch(createRequest(validBody(), { "idempotency-key": "answer-lost-0001" }));
    expect(retry.headers.get("idempotency-replayed")).toBe("true");
    expect(((await retry.json()) as { id: string }).id).toBe(sim.tasks()[0]!.id);
    expect(sim.tasks()).toHaveLength(1);
  });

  it("delays a query by queryDelayMs, and the caller can abort during the delay", async () => {
    const { sim } = makeSim();
    const id = await createTask(sim);
    sim.inject({ queryDelayMs: 5_000 });
    const controller = new AbortController();
    const pending = sim.fetch(queryRequest(id, {}, { signal: controller.signal }));
    expect(await settled(pending)).toBe(false);
    controller.abort(new Error("caller gave up"));
    await expect(pending).rejects.toThrow("caller gave up");
  });

  it("hangs a create until the caller aborts, creating nothing", async () => {
    const { sim } = makeSim();
    sim.inject({ hangCreate: true });
    const controller = new AbortController();
    const pending = sim.fetch(createRequest(validBody(), {}, { signal: controller.signal }));
    expect(await settled(pending)).toBe(false);
    controller.abort(new Error("timeout"));
    await expect(pending).rejects.toThrow("timeout");
    expect(sim.tasks()).toHaveLength(0);
  });

  it("hangs a query until the caller's AbortSignal.timeout fires", async () => {
    const { sim } = makeSim();
    const id = await createTask(sim);
    sim.inject({ hangQuery: true });
    const started = Date.now();
    await expect(sim.fetch(queryRequest(id, {}, { signal: AbortSignal.timeout(100) }))).rejects.toThrow();
    expect(Date.now() - started).toBeGreaterThanOrEqual(90);
  });
});

describe("faults JSON", () => {
  it.each([
    [{ creat: { status: 500 } }, "unknown fault creat"],
    [{ create: { status: 404 } }, "create.status must be one of 401, 402, 403, 429, 500, 503"],
    [{ query: { status: 500, count: 0 } }, "query.count must be a positive integer"],
    [{ query: { status: 500, every: 2 } }, "unknown field query.every"],
    [{ hangCreate: "yes" }, "hangCreate must be a boolean"],
    [{ createDelayMs: -1 }, "createDelayMs must be a non-negative number"],
    [{ nextOutcome: "exploded" }, "nextOutcome must be one of completed, failed, cancelled"],
  ])("refuses %j", (faults, message) => {
    const { sim } = makeSim();
    expect(() => sim.inject(faults as never)).toThrow(message);
    expect(sim.faults).toEqual({});
  });

  it("merges injections; reset() clears faults, tasks, requests and callbacks", async () => {
    const { sim } = makeSim();
    sim.inject({ dropCallbacks: true });
    sim.inject({ query: { status: 429 } });
    expect(sim.faults).toEqual({ dropCallbacks: true, query: { status: 429 } });
    await createTask(sim);
    sim.reset();
    expect(sim.faults).toEqual({});
    expect(sim.tasks()).toEqual([]);
    expect(sim.requests).toEqual([]);
    expect(sim.callbacks).toEqual([]);
  });
});
