// GET /v1/tasks/{id}/events: the task's state pushed as Server-Sent Events until it ends (docs/events.md).
// The same caller checks as GET /v1/tasks/{id} (the id opened at the edge, the uniform 404), then one slot
// taken in the tenant's object (per tenant and per user; 429 beyond) and given back when the stream closes.
// In between, the stream reads its task's hub in this isolate (./hub.ts), which reads the location's poll
// cache and asks the upstream at most once per EVENTS_POLL_MS for all the isolate's streams on the task.
import { Hono } from "hono";
import type { TenantEnv } from "../auth/principal";
import {
  DEFAULT_TENANT_EVENT_STREAMS,
  DEFAULT_USER_EVENT_STREAMS,
  EVENT_HUB_CHECK_MS,
  EVENT_STREAM_END_RELEASE_MS,
  EVENT_STREAM_HEARTBEAT_MS,
  EVENT_STREAM_MAX_LIFE_MS,
  EVENT_STREAM_TICK_MS,
} from "../config/constants";
import { ApiError } from "../http/errors";
import { tenantObject } from "../state/client";
import { visibleTask } from "../tasks/routes";
import { joinHub, leaveHub } from "./hub";
import type { LeaseAnswer } from "./leases";
import { taskSource } from "./source";
import { FINAL_EVENT_ID, lastEventId } from "./sse";
import { eventStream, type StreamTimings } from "./stream";

/** The streams' clocks; tests shorten them (they run the Worker in their own isolate). */
export const streamTimings: StreamTimings & { endReleaseMs: number } = {
  tickMs: EVENT_STREAM_TICK_MS,
  checkMs: EVENT_HUB_CHECK_MS,
  heartbeatMs: EVENT_STREAM_HEARTBEAT_MS,
  // A check is one cache read, at most one upstream call (bounded by UPSTREAM_TIMEOUT_MS) and, at the end,
  // one object call; one that takes longer than this was cut off with its stream.
  busyMs: 30_000,
  endReleaseMs: EVENT_STREAM_END_RELEASE_MS,
};

const HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-store",
};

export const eventRoutes = new Hono<TenantEnv>();

eventRoutes.get("/tasks/:id/events", async (c) => {
  const id = c.req.param("id");
  const claims = await visibleTask(c, id);
  const lastId = lastEventId(c.req.header("last-event-id"));
  // The client has seen the final event: nothing is left to send, and nothing needs asking.
  if (lastId >= FINAL_EVENT_ID) return c.body("", 200, HEADERS);

  const config = c.get("config");
  const { tenant, sub } = c.get("principal");
  const object = tenantObject(c.env, tenant);
  const stream = crypto.randomUUID();
  const lease = await object.eventStreamOpen({
    stream,
    sub: sub ?? null,
    tenantMax: tenant.quotas?.max_event_streams ?? DEFAULT_TENANT_EVENT_STREAMS,
    userMax: tenant.user_quotas?.max_event_streams ?? DEFAULT_USER_EVENT_STREAMS,
    lifeMs: EVENT_STREAM_MAX_LIFE_MS,
  });
  if (!lease.granted) throw refusal(lease);

  const hub = joinHub(id);
  let closed!: (taskEnded: boolean) => void;
  const done = new Promise<boolean>((resolve) => (closed = resolve));
  c.executionCtx.waitUntil(
    done
      .then((taskEnded) => (taskEnded ? spread(streamTimings.endReleaseMs) : undefined))
      .then(() => object.eventStreamClose(stream))
      .catch((err: unknown) =>
        // The lease expires by itself at the stream's maximum life.
        c.get("log").warn("event_stream_release_failed", { task_id: id, error: String(err) }),
      ),
  );
  const body = eventStream({
    hub,
    source: taskSource(c, id, claims),
    lastId,
    pollMs: config.eventsPollMs,
    idleMs: config.eventsIdleMs,
    maxLifeMs: EVENT_STREAM_MAX_LIFE_MS,
    timings: streamTimings,
    onClose: (taskEnded) => {
      leaveHub(id, hub);
      closed(taskEnded);
    },
  });
  return c.body(body, 200, HEADERS);
});

/**
 * Waits a random moment in the second half of `ms`. At a task's end all its streams close together; their
 * slots are given back after the final events are out, spread out, not as a burst of object calls that
 * competes with those events (measured in docs/performance.md, "Event streams").
 */
function spread(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms / 2 + Math.random() * (ms / 2)));
}

function refusal(lease: Extract<LeaseAnswer, { granted: false }>): ApiError {
  const who = lease.scope === "user" ? "this user" : "the tenant";
  return new ApiError(
    "event_stream_limit_exceeded",
    `Too many open event streams: ${who} may hold ${lease.max} at once; close one, or retry later`,
    {
      headers: { "Retry-After": String(lease.retryAfterS) },
      details: {
        details: {
          scope: lease.scope,
          limit: "event_streams",
          max: lease.max,
          retry_after_seconds: lease.retryAfterS,
        },
      },
    },
  );
}
