// Where a hub's check (./hub.ts) learns about a task, through the request of the stream that runs it: the
// location's poll cache (src/tasks/poll-cache.ts), then the upstream, as GET /v1/tasks/{id} does. A live
// answer is kept in the cache for EVENTS_POLL_MS, so the other isolates of the location reuse it instead of
// asking again; an end is reported to the task's object and its final view kept there (src/tasks/answer.ts),
// which is also where a callback's end is written. While the task runs, no Durable Object is called.
import type { Context } from "hono";
import type { TenantEnv } from "../auth/principal";
import { ApiError } from "../http/errors";
import { tenantObject } from "../state/client";
import { answerScope, finalView, keepFinal, reportEnd } from "../tasks/answer";
import type { TaskIdClaims } from "../tasks/ids";
import { cachedTask, cacheLive } from "../tasks/poll-cache";
import { presentTask, type TenantTaskView } from "../tasks/present";
import { getUpstreamTask, upstreamCall } from "../upstream/client";
import { TERMINAL_STATUSES } from "../upstream/schema";
import type { Seen, TaskSource } from "./hub";
import type { LiveState } from "./sse";

function seenOf(view: TenantTaskView, final: boolean): Seen | null {
  if (final) return { kind: "final", view };
  // A live answer never shows an end (GET caches ends only as final views); be strict anyway.
  if (view.status !== "pending" && view.status !== "processing") return null;
  return { kind: "live", state: { status: view.status, progress: view.progress } satisfies LiveState };
}

export function taskSource(c: Context<TenantEnv>, id: string, claims: TaskIdClaims): TaskSource {
  const config = c.get("config");
  const scope = answerScope(c);
  return {
    async cached(now, liveMaxAgeMs) {
      const hit = await cachedTask(config, id, now, liveMaxAgeMs);
      return hit && seenOf(hit.view, hit.final);
    },

    async ask(now) {
      let upstream;
      try {
        upstream = await getUpstreamTask(upstreamCall(c), claims.upstreamId);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === "task_not_found")) throw err;
        // The upstream forgot the task: only its record can still show an end (as GET answers).
        const final = await finalView(scope, id, await tenantObject(c.env, scope.tenant).getTask(claims.row));
        if (!final) return { kind: "gone" };
        await keepFinal(scope, id, final);
        return { kind: "final", view: final.view };
      }
      if (TERMINAL_STATUSES.has(upstream.status)) {
        const { final, record } = await reportEnd(scope, id, claims.row, upstream, now);
        if (record?.state === "deleted") return { kind: "gone" };
        return final && { kind: "final", view: final.view };
      }
      const view = presentTask(id, upstream, { model: claims.model, createdMs: claims.createdSec * 1000 });
      await cacheLive(config, id, view, now, config.eventsPollMs);
      return seenOf(view, false);
    },

    failed(err) {
      c.get("log").warn("event_check_failed", { task_id: id, error: String(err) });
    },
  };
}
