// Bearer authentication on both endpoints, and Idempotency-Key on create: replay with the
// `idempotency-replayed` header and no new task, conflict on a different body, 400 on a malformed key.
import { describe, expect, it } from "vitest";
import { createRequest, errorOf, makeSim, queryRequest, validBody } from "./helpers";

const KEY = "order-7f3a9c21.retry_1";

describe("authentication", () => {
  it.each([
    ["no Authorization header", { authorization: null }],
    ["an empty Authorization header", { authorization: "" }],
    ["a wrong key", { authorization: "Bearer sk-wrong" }],
    ["another scheme", { authorization: "Basic c2stc2ltLXRlc3Q=" }],
  ])("refuses a create with %s: 401 unauthorized, no task", async (_name, headers) => {
    const { sim } = makeSim();
    const res = await sim.fetch(createRequest(validBody(), headers));
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toEqual({
      code: "unauthorized",
      message: "Invalid or expired token",
      type: "authentication_error",
    });
    expect(sim.tasks()).toHaveLength(0);
  });

  it("refuses a query without the key, in the task API's wording", async () => {
    const { sim } = makeSim();
    const res = await sim.fetch(queryRequest("task-unified-1-abcdefgh", { authorization: "Bearer nope" }));
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toEqual({
      code: "unauthorized",
      message: "Authentication required",
      type: "authentication_error",
    });
  });

  it("records requests with the Authorization value masked", async () => {
    const { sim } = makeSim();
    await sim.fetch(createRequest(validBody()));
    await sim.fetch(queryRequest("task-unified-1-abcdefgh", { authorization: null }));
    expect(sim.requests[0]).toMatchObject({
      method: "POST",
      path: "/v1/videos/generations",
      headers: { authorization: "[present]", "content-type": "application/json" },
      body: validBody(),
    });
    expect(JSON.stringify(sim.requests)).not.toContain("sk-sim-test-key");
    expect(sim.requests[1]?.headers).not.toHaveProperty("authorization");
  });
});

describe("Idempotency-Key", () => {
  it("replays the first answer for the same key and body, with idempotency-replayed: true", async () => {
    const { sim, clock } = makeSim();
    const first = await sim.fetch(createRequest(validBody(), { "idempotency-key": KEY }));
    expect(first.status).toBe(200);
    expect(first.headers.get("idempotency-replayed")).toBeNull();
    const firstBody = await first.json();
    clock.advance(2_000);
    // Same body with another key order is the same request.
    const reordered = {
      video_urls: validBody().video_urls,
      prompt: validBody().prompt,
      model: validBody().model,
    };
    const again = await sim.fetch(createRequest(reordered, { "idempotency-key": KEY }));
    expect(again.status).toBe(200);
    expect(again.headers.get("idempotency-replayed")).toBe("true");
    expect(await again.json()).toEqual(firstBody);
    expect(sim.tasks()).toHaveLength(1);
    expect(sim.tasks()[0]?.idempotencyKey).toBe(KEY);
  });

  it("answers 409 idempotency_conflict for the same key with a different body", async () => {
    const { sim } = makeSim();
    await sim.fetch(createRequest(validBody(), { "idempotency-key": KEY }));
    const res = await sim.fetch(
      createRequest(validBody({ prompt: "Another dance" }), { "idempotency-key": KEY }),
    );
    expect(res.status).toBe(409);
    expect(await errorOf(res)).toMatchObject({ code: "idempotency_conflict" });
    expect(sim.tasks()).toHaveLength(1);
  });

  it("creates separate tasks without a key, or with different keys", async () => {
    const { sim } = makeSim();
    await sim.fetch(createRequest(validBody()));
    await sim.fetch(createRequest(validBody()));
    await sim.fetch(createRequest(validBody(), { "idempotency-key": `${KEY}-a` }));
    await sim.fetch(createRequest(validBody(), { "idempotency-key": `${KEY}-b` }));
    expect(new Set(sim.tasks().map((t) => t.id)).size).toBe(4);
  });

  it.each([
    ["too short (15 chars)", "a".repeat(15)],
    ["too long (97 chars)", "a".repeat(97)],
    ["with a forbidden character", "order-7f3a9c21/retry"],
    ["empty", ""],
  ])("refuses a key that is %s with 400", async (_name, key) => {
    const { sim } = makeSim();
    const res = await sim.fetch(createRequest(validBody(), { "idempotency-key": key }));
    expect(res.status).toBe(400);
    expect(await errorOf(res)).toMatchObject({
      code: "invalid_request",
      message: expect.stringContaining("Idempotency-Key"),
    });
    expect(sim.tasks()).toHaveLength(0);
  });

  it("accepts keys of exactly 16 and 96 characters", async () => {
    const { sim } = makeSim();
    for (const key of ["a".repeat(16), "Z.9_-".repeat(19) + "x"]) {
      expect((await sim.fetch(createRequest(validBody(), { "idempotency-key": key }))).status).toBe(200);
    }
  });

  it("does not remember a rejected request under its key", async () => {
    const { sim } = makeSim();
    const bad = await sim.fetch(createRequest(validBody({ quality: "8k" }), { "idempotency-key": KEY }));
    expect(bad.status).toBe(400);
    const good = await sim.fetch(createRequest(validBody(), { "idempotency-key": KEY }));
    expect(good.status).toBe(200);
    expect(good.headers.get("idempotency-replayed")).toBeNull();
  });
});
