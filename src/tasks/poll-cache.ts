// Task answers kept at the edge, in the location's Cache API, keyed by the task's public id: a live one for
// TASK_POLL_CACHE_MS, so a tight polling loop costs one upstream query per interval per task and location;
// an ended one for TASK_FINAL_CACHE_MS, because the view of an ended task is final (its object's snapshot,
// ./routes.ts) and never needs the upstream again (only a deletion changes it). Only a caller that has already opened the id
// (and so passed the tenant and `sub` checks) reaches the cache.
import { TASK_FINAL_CACHE_MS, TASK_RETENTION_MS } from "../config/constants";
import type { Config } from "../config/env";
import type { TenantTaskView } from "./present";

const EXPIRES = "x-reelgate-expires";
const FINAL = "x-reelgate-final";

function cacheKey(config: Config, id: string): Request {
  // On the gateway's own origin; never routed, only a key.
  return new Request(`${config.publicBaseUrl}/__poll-cache/tasks/${id}`);
}

/** The kept answer: a final view always, a live one only while TASK_POLL_CACHE_MS is on. */
export async function cachedPoll(config: Config, id: string, now: number): Promise<TenantTaskView | null> {
  const hit = await caches.default.match(cacheKey(config, id));
  if (!hit) return null;
  // The Cache API counts whole seconds; the exact expiry travels with the entry.
  if (Number(hit.headers.get(EXPIRES)) <= now) return null;
  if (config.taskPollCacheMs === 0 && !hit.headers.has(FINAL)) return null;
  return (await hit.json()) as TenantTaskView;
}

/**
 * Keeps a live answer for TASK_POLL_CACHE_MS (not at all when that is 0). One written just after a final view
 * (two polls racing the end) hides it for that long; then the next poll sees the end again.
 */
export function cacheLive(config: Config, id: string, view: TenantTaskView, now: number): Promise<void> {
  return put(config, id, view, now, config.taskPollCacheMs, false);
}

/**
 * Keeps an ended task's final view for TASK_FINAL_CACHE_MS (never past its record's purge, TASK_RETENTION_MS
 * after its end): the view is final, but the tenant may delete the task, and another location's cache cannot
 * be told, so its copy lives only that long.
 */
export function cacheFinal(
  config: Config,
  id: string,
  view: TenantTaskView,
  endedAt: number,
  now: number,
): Promise<void> {
  return put(config, id, view, now, Math.min(TASK_FINAL_CACHE_MS, endedAt + TASK_RETENTION_MS - now), true);
}

/** Drops this location's kept answer (the task was deleted). */
export async function forgetPoll(config: Config, id: string): Promise<void> {
  await caches.default.delete(cacheKey(config, id)).catch(() => false);
}

async function put(
  config: Config,
  id: string,
  view: TenantTaskView,
  now: number,
  ttl: number,
  final: boolean,
): Promise<void> {
  if (ttl <= 0) return;
  const headers = new Headers({
    "content-type": "application/json",
    "cache-control": `max-age=${Math.ceil(ttl / 1000)}`,
    [EXPIRES]: String(now + ttl),
  });
  if (final) headers.set(FINAL, "1");
  const response = new Response(JSON.stringify(view), { headers });
  await caches.default.put(cacheKey(config, id), response).catch(() => {
    // A cache that refuses a put costs an upstream query or an object call later, nothing else.
  });
}
