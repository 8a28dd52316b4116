// Shared set-up for the simulator's tests: a simulator on a manual clock, request builders and a valid
// create body. The upstream's OpenAPI files come from env.UPSTREAM_CONTRACT (null when ../shared/upstream is absent).
import { env } from "cloudflare:workers";
import { UpstreamSimulator } from "../../sim/src/core";
import type { SimOptions } from "../../sim/src/types";

export const API_KEY = "sk-sim-test-key-0123456789";
export const BASE = "https://api.evolink.test";
export const T0 = Date.UTC(2026, 10, 24, 12, 0, 0);

export const contract = ((env as unknown as { UPSTREAM_CONTRACT?: Record<string, unknown> | null })
  .UPSTREAM_CONTRACT ?? null) as Record<string, unknown> | null;
export const NO_CONTRACT = "skipped: env.UPSTREAM_CONTRACT is null (../shared/upstream is absent)";

export interface Clock {
  now: () => number;
  set(ms: number): void;
  advance(ms: number): void;
}

export function manualClock(start = T0): Clock {
  let t = start;
  return { now: () => t, set: (ms) => void (t = ms), advance: (ms) => void (t += ms) };
}

export function makeSim(options: Partial<SimOptions> = {}): { sim: UpstreamSimulator; clock: Clock } {
  const clock = manualClock();
  const sim = new UpstreamSimulator({ apiKey: API_KEY, now: clock.now, contract, ...options });
  return { sim, clock };
}

export function validBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    model: "wan2.6-reference-video-flash",
    prompt: "A person dancing",
    video_urls: ["https://cdn.example.com/ref.mp4"],
    ...overrides,
  };
}

/** Header overrides; null removes a header. */
export type HeaderOverrides = Record<string, string | null>;

function headersWith(defaults: Record<string, string>, overrides: HeaderOverrides): Headers {
  const headers = new Headers(defaults);
  for (const [name, value] of Object.entries(overrides)) {
    if (value === null) headers.delete(name);
    else headers.set(name, value);
  }
  return headers;
}

export function createRequest(body: unknown, headers: HeaderOverrides = {}, init: RequestInit = {}): Request {
  return new Request(`${BASE}/v1/videos/generations`, {
    method: "POST",
    headers: headersWith({ authorization: `Bearer ${API_KEY}`, "content-type": "application/json" }, headers),
    body: typeof body === "string" ? body : JSON.stringify(body),
    ...init,
  });
}

export function queryRequest(id: string, headers: HeaderOverrides = {}, init: RequestInit = {}): Request {
  return new Request(`${BASE}/v1/tasks/${id}`, {
    headers: headersWith({ authorization: `Bearer ${API_KEY}` }, headers),
    ...init,
  });
}

/** Creates a task and returns its id (fails the test when creation does not succeed). */
export async function createTask(
  sim: UpstreamSimulator,
  overrides: Record<string, unknown> = {},
): Promise<string> {
  const res = await sim.fetch(createRequest(validBody(overrides)));
  if (res.status !== 200) throw new Error(`create failed: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { id: string }).id;
}

export async function errorOf(res: Response): Promise<{ code: string; message: string; type: string }> {
  return ((await res.json()) as { error: { code: string; message: string; type: string } }).error;
}
