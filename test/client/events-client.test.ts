// The fetch-based event stream reader of examples/client/events.ts (docs/events.md) against the real app:
// it follows a task to its end, hands on its progress, and after the gateway closes an idle stream it
// reconnects with Last-Event-ID and is sent only what it had not seen.
import { createExecutionContext } from "cloudflare:test";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { followTask, type TaskProgress } from "../../examples/client/events";
import { app } from "../../src/app";
import { streamTimings } from "../../src/events/routes";
import type { Env } from "../../src/env";
import { createTenant } from "../fixtures/tenants";
import { GATEWAY, VALID_BODY, bearer, gw, startSimulator, withJson } from "../helpers/gateway";
import { checkAgainstOpenApi } from "../helpers/openapi";
import { sweepResponse } from "../helpers/sweep";
import { eventsEnv } from "../events/helpers";

const DEFAULT_TIMINGS = { ...streamTimings };
beforeEach(() => {
  Object.assign(streamTimings, { tickMs: 20, checkMs: 50, endReleaseMs: 0 });
});
afterEach(() => {
  Object.assign(streamTimings, DEFAULT_TIMINGS);
});

/** The app as the reader's fetch, with the key sweep and the OpenAPI check; records each Last-Event-ID sent. */
function appFetch(env: Env, sent: (string | null)[]) {
  return async (request: Request) => {
    sent.push(request.headers.get("last-event-id"));
    const res = await sweepResponse(await app.fetch(request, env, createExecutionContext()));
    await checkAgainstOpenApi(request.method, request.url, res);
    return res;
  };
}

describe("examples/client/events.ts", () => {
  it("follows a task to its end and resolves with the task GET answers", async () => {
    const { clock } = startSimulator();
    const t = await createTenant();
    const created = await gw("/v1/videos/generations", withJson(await t.token(), VALID_BODY));
    const { id } = (await created.json()) as { id: string };
    const seen: TaskProgress[] = [];
    const sent: (string | null)[] = [];
    const ended = followTask(id, {
      baseUrl: GATEWAY,
      token: () => t.token(),
      fetch: appFetch(eventsEnv(), sent),
      onProgress: (p) => {
        seen.push(p);
        void clock.advance(10_000); // the task ends once the reader is listening; the callback tells the stream
      },
    });
    const task = await ended;
    expect(task).toMatchObject({ id, status: "completed" });
    expect(task).toEqual(await (await gw(`/v1/tasks/${id}`, bearer(await t.token()))).json());
    expect(seen[0]).toEqual({ status: "pending", progress: 0 });
    expect(sent).toEqual([null]);
  });

  it("reconnects with Last-Event-ID after an idle close, and rejects a task it may not see", async () => {
    const { clock } = startSimulator();
    const t = await createTenant();
    const created = await gw("/v1/videos/generations", withJson(await t.token(), VALID_BODY));
    const { id } = (await created.json()) as { id: string };
    const sent: (string | null)[] = [];
    const seen: TaskProgress[] = [];
    const ended = followTask(id, {
      baseUrl: GATEWAY,
      token: () => t.token(),
      fetch: appFetch(eventsEnv({ EVENTS_IDLE_MS: "200" }), sent),
      onProgress: (p) => seen.push(p),
    });
    await new Promise((r) => setTimeout(r, 700)); // idle-closed at least once meanwhile
    await clock.advance(10_000);
    expect((await ended).status).toBe("completed");
    expect(sent.length).toBeGreaterThan(1);
    expect(sent.slice(1).every((h) => h === "1000")).toBe(true);
    expect(seen).toEqual([{ status: "pending", progress: 0 }]); // never sent twice

    await expect(
      followTask(id, {
        baseUrl: GATEWAY,
        token: () => t.token({ sub: "someone-else" }),
        fetch: appFetch(eventsEnv(), []),
      }),
    ).rejects.toThrow(/404 task_not_found/);
  });
});
