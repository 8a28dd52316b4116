// Callbacks (README §5): when a task ends, its detail is POSTed to callback_url through `send`; a non-2xx
// answer or a network error is retried at most 3 times, 1/2/4 s after each failure (sim clock, on tick()).
import { afterEach, describe, expect, it, vi } from "vitest";
import { createTask, makeSim, queryRequest } from "./helpers";

const HOOK = "https://hooks.example.com/evolink";

/** A `send` stub answering with the scripted statuses in turn (a string throws that message), then 200. */
function receiver(script: Array<number | string> = []) {
  const received: Array<{ method: string; url: string; contentType: string | null; body: unknown }> = [];
  const send = async (request: Request): Promise<Response> => {
    received.push({
      method: request.method,
      url: request.url,
      contentType: request.headers.get("content-type"),
      body: await request.json(),
    });
    const next = script.shift() ?? 200;
    if (typeof next === "string") throw new TypeError(next);
    return new Response(null, { status: next });
  };
  return { send, received };
}

afterEach(() => {
  vi.useRealTimers();
});

describe("callbacks", () => {
  it("POSTs the task detail as JSON once the task has ended, not before, and only on tick()", async () => {
    const { send, received } = receiver();
    const { sim, clock } = makeSim({ send });
    const id = await createTask(sim, { callback_url: HOOK });
    clock.advance(4_999);
    await sim.tick();
    expect(received).toHaveLength(0);
    clock.advance(1);
    const detail = await (await sim.fetch(queryRequest(id))).json();
    expect(received).toHaveLength(0);
    await sim.tick();
    expect(received).toEqual([{ method: "POST", url: HOOK, contentType: "application/json", body: detail }]);
    expect(received[0]?.body).toMatchObject({ id, status: "completed", progress: 100 });
    expect(sim.callbacks).toEqual([{ taskId: id, url: HOOK, attempt: 1, status: 200, at: clock.now() }]);
    await sim.tick();
    expect(received).toHaveLength(1);
    expect(sim.busy).toBe(false);
  });

  it("calls back for failed and cancelled tasks too, and never without a callback_url", async () => {
    const { send, received } = receiver();
    const { sim, clock } = makeSim({ send });
    const failed = await createTask(sim, { callback_url: HOOK, prompt: "[sim:fail]" });
    const cancelled = await createTask(sim, { callback_url: HOOK, prompt: "[sim:cancel]" });
    await createTask(sim);
    clock.advance(5_000);
    await sim.tick();
    expect(received.map((r) => r.body)).toEqual([
      expect.objectContaining({
        id: failed,
        status: "failed",
        error: expect.objectContaining({ type: "task_error" }),
      }),
      expect.objectContaining({ id: cancelled, status: "cancelled" }),
    ]);
  });

  it("retries a failed delivery 1 s after the failure, then stops on 2xx", async () => {
    const { send, received } = receiver([500]);
    const { sim, clock } = makeSim({ send });
    const id = await createTask(sim, { callback_url: HOOK });
    clock.advance(5_000);
    await sim.tick();
    const failedAt = clock.now();
    clock.advance(999);
    await sim.tick();
    expect(received).toHaveLength(1);
    clock.advance(1);
    await sim.tick();
    clock.advance(60_000);
    await sim.tick();
    expect(received).toHaveLength(2);
    expect(sim.callbacks).toEqual([
      { taskId: id, url: HOOK, attempt: 1, status: 500, at: failedAt },
      { taskId: id, url: HOOK, attempt: 2, status: 200, at: failedAt + 1_000 },
    ]);
  });

  it("retries at most 3 times, at 1, 2 and 4 s after each failure, network errors included", async () => {
    const { send, received } = receiver([503, "connection refused", 404, 500, 500]);
    const { sim, clock } = makeSim({ send });
    await createTask(sim, { callback_url: HOOK });
    clock.advance(5_000);
    const start = clock.now();
    const tickAt = async (offset: number) => {
      clock.set(start + offset);
      await sim.tick();
    };
    for (const offset of [0, 999, 1_000, 2_999, 3_000, 6_999, 7_000, 20_000, 120_000]) await tickAt(offset);
    expect(received).toHaveLength(4);
    expect(
      sim.callbacks.map(({ attempt, status, error, at }) => ({ attempt, status, error, at: at - start })),
    ).toEqual([
      { attempt: 1, status: 503, error: undefined, at: 0 },
      { attempt: 2, status: undefined, error: "connection refused", at: 1_000 },
      { attempt: 3, status: 404, error: undefined, at: 3_000 },
      { attempt: 4, status: 500, error: undefined, at: 7_000 },
    ]);
    expect(sim.busy).toBe(false);
  });

  it("gives up on an attempt after 10 s and counts it as a failure", async () => {
    vi.useFakeTimers();
    const { sim, clock } = makeSim({ send: () => new Promise<Response>(() => {}) });
    await createTask(sim, { callback_url: HOOK });
    clock.advance(5_000);
    const ticking = sim.tick();
    await vi.advanceTimersByTimeAsync(9_999);
    expect(sim.callbacks).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await ticking;
    expect(sim.callbacks).toEqual([
      expect.objectContaining({ attempt: 1, error: "callback timed out after 10000 ms" }),
    ]);
    expect(sim.busy).toBe(true); // a retry is pending
  });

  it("does not send the same attempt twice when ticks overlap", async () => {
    let release: (r: Response) => void = () => {};
    const sent: Request[] = [];
    const send = (request: Request) => {
      sent.push(request);
      return new Promise<Response>((resolve) => (release = resolve));
    };
    const { sim, clock } = makeSim({ send });
    await createTask(sim, { callback_url: HOOK });
    clock.advance(5_000);
    const first = sim.tick();
    await sim.tick();
    release(new Response("ok"));
    await first;
    expect(sent).toHaveLength(1);
    expect(sim.callbacks).toHaveLength(1);
  });

  it("drops due callbacks while dropCallbacks is injected: logged, never sent, never retried", async () => {
    const { send, received } = receiver();
    const { sim, clock } = makeSim({ send });
    sim.inject({ dropCallbacks: true });
    const id = await createTask(sim, { callback_url: HOOK });
    clock.advance(5_000);
    await sim.tick();
    sim.inject({ dropCallbacks: null });
    clock.advance(30_000);
    await sim.tick();
    expect(received).toHaveLength(0);
    expect(sim.callbacks).toEqual([
      {
        taskId: id,
        url: HOOK,
        attempt: 1,
        error: "dropped (fault injection: dropCallbacks)",
        at: clock.now() - 30_000,
      },
    ]);
    expect(sim.task(id)?.status).toBe("completed");
  });
});
