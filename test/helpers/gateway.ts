// Drives the real Worker (`exports.default.fetch`) the way a tenant's app or an operator would, and wires
// the upstream simulator into the in-isolate outbound router at the test upstream host.
import { env, exports } from "cloudflare:workers";
import { UpstreamSimulator } from "../../sim/src/core";
import { checkAgainstOpenApi } from "./openapi";
import { route } from "./outbound";
import { sweepResponse } from "./sweep";

export const GATEWAY = "https://gateway.reelgate.test";
export const UPSTREAM_HOST = "api.evolink.test";
/** The host of the simulator's result links (its default media origin). */
export const MEDIA_HOST = "media.sim.evolink.test";
export const UPSTREAM_KEY = env.UPSTREAM_API_KEY as string;
export const ADMIN_TOKEN = env.ADMIN_TOKEN as string;

/**
 * Calls the real Worker; every response is swept for the upstream key and checked against the OpenAPI
 * documents (test/helpers/openapi.ts: an undocumented response throws).
 */
export async function gw(path: string, init: RequestInit = {}): Promise<Response> {
  const res = await sweepResponse(await exports.default.fetch(`${GATEWAY}${path}`, init));
  await checkAgainstOpenApi(init.method ?? "GET", `${GATEWAY}${path}`, res);
  return res;
}

export function admin(path: string, init: RequestInit & { json?: unknown } = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set("authorization", `Bearer ${ADMIN_TOKEN}`);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set("content-type", "application/json");
    body = JSON.stringify(init.json);
  }
  return gw(path, { ...init, headers, body });
}

export function withJson(token: string, body: unknown, extra: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json", ...extra },
    body: JSON.stringify(body),
  };
}

export function bearer(token: string, extra: Record<string, string> = {}): RequestInit {
  return { headers: { authorization: `Bearer ${token}`, ...extra } };
}

export interface SimHarness {
  sim: UpstreamSimulator;
  clock: { now: number; advance(ms: number): Promise<void> };
}

/**
 * Starts a simulator with a manual clock, routes the upstream host and the host of its result links
 * (MEDIA_HOST) to it, and routes the gateway's public host back to the Worker so the simulator's callbacks
 * arrive through the real app.
 */
export function startSimulator(options: { contract?: boolean; filesMaxFiles?: number } = {}): SimHarness {
  const clock = {
    now: Date.now(),
    async advance(ms: number) {
      clock.now += ms;
      await sim.tick();
    },
  };
  const sim = new UpstreamSimulator({
    apiKey: UPSTREAM_KEY,
    now: () => clock.now,
    ...(options.filesMaxFiles !== undefined && { filesMaxFiles: options.filesMaxFiles }),
    contract:
      options.contract === false ? null : ((env.UPSTREAM_CONTRACT as Record<string, unknown> | null) ?? null),
  });
  route(UPSTREAM_HOST, (req) => sim.fetch(req));
  route(new URL(sim.mediaBaseUrl).host, (req) => sim.fetch(req));
  route(new URL(GATEWAY).host, async (req) => {
    const res = await sweepResponse(await exports.default.fetch(req));
    await checkAgainstOpenApi(req.method, req.url, res);
    return res;
  });
  return { sim, clock };
}

export const VALID_BODY = {
  model: "wan2.6-reference-video-flash",
  prompt: "A person dancing in the rain",
  video_urls: ["https://cdn.acme.example/ref.mp4"],
};
