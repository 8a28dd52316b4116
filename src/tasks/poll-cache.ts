// Poll collapsing at the edge: a task's answer is kept in the location's Cache API, keyed by its public id,
// for TASK_POLL_CACHE_MS while it runs and until its result links expire once it has ended, so a tight
// polling loop costs one upstream query per interval per task and location. Only a caller that has already
// opened the id (and so passed the tenant and `sub` checks) reaches the cache.
import { TASK_RESULTS_TTL_MS } from "../config/constants";
import type { Config } from "../config/env";
import type { TenantTaskView } from "./present";

const EXPIRES = "x-reelgate-expires";

function cacheKey(config: Config, id: string): Request {
  // On the gateway's own origin; never routed, only a key.
  return new Request(`${config.publicBaseUrl}/__poll-cache/tasks/${id}`);
}

/** How long an answer may be served again: 0 when the cache is off or the answer is not worth keeping. */
export function pollTtlMs(config: Config, view: TenantTaskView, ended: boolean, now: number): number {
  if (config.taskPollCacheMs === 0) return 0;
  if (!ended) return config.taskPollCacheMs;
  return Math.max(0, view.created * 1000 + TASK_RESULTS_TTL_MS - now);
}

export async function cachedPoll(config: Config, id: string, now: number): Promise<TenantTaskView | null> {
  if (config.taskPollCacheMs === 0) return null;
  const hit = await caches.default.match(cacheKey(config, id));
  if (!hit) return null;
  // The Cache API counts whole seconds; the exact expiry travels with the entry.
  if (Number(hit.headers.get(EXPIRES)) <= now) return null;
  return (await hit.json()) as TenantTaskView;
}

export async function cachePoll(
  config: Config,
  id: string,
  view: TenantTaskView,
  ended: boolean,
  now: number,
): Promise<void> {
  const ttl = pollTtlMs(config, view, ended, now);
  if (ttl <= 0) return;
  const response = new Response(JSON.stringify(view), {
    headers: {
      "content-type": "application/json",
      "cache-control": `max-age=${Math.ceil(ttl / 1000)}`,
      [EXPIRES]: String(now + ttl),
    },
  });
  await caches.default.put(cacheKey(config, id), response).catch(() => {
    // A cache that refuses a put costs an upstream query later, nothing else.
  });
}
