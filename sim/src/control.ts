// The simulator's control and inspection API under /__sim (local only, no auth): what tests and the local
// dev loop use to see what the gateway sent and to make the upstream misbehave on purpose.
import type { UpstreamSimulator } from "./core";
import { errorResponse, json, routeNotFound } from "./errors";
import type { MediaSettings } from "./media";

type Route = (sim: UpstreamSimulator, request: Request) => Promise<Response> | Response;

const routes: Record<string, Route> = {
  "GET /__sim/requests": (sim) => json(sim.requests),
  "GET /__sim/tasks": (sim) => json(sim.tasks()),
  "GET /__sim/callbacks": (sim) => json(sim.callbacks),
  "GET /__sim/faults": (sim) => json(sim.faults),
  "GET /__sim/files": (sim) => json([...sim.files.files.values()]),
  "POST /__sim/faults": injectFaults,
  "GET /__sim/media": (sim) => json(mediaJson(sim.media)),
  "POST /__sim/media": configureMedia,
  "GET /__sim/credits": (sim) => json(sim.credits),
  "POST /__sim/credits": configureCredits,
  "POST /__sim/reset": (sim) => {
    sim.reset();
    return json({ ok: true });
  },
  "POST /__sim/tick": async (sim) => {
    await sim.tick();
    return json({ ok: true, busy: sim.busy });
  },
};

export async function handleControl(sim: UpstreamSimulator, request: Request, url: URL): Promise<Response> {
  const route = routes[`${request.method} ${url.pathname}`];
  return route ? route(sim, request) : routeNotFound(request.method, url.pathname);
}

async function injectFaults(sim: UpstreamSimulator, request: Request): Promise<Response> {
  try {
    sim.inject(JSON.parse(await request.text()));
  } catch (err) {
    return badRequest(err);
  }
  return json(sim.faults);
}

/** `{"bytes"?: n, "ttl_ms"?: n}`: the size of results of tasks created from now on, and the links' lifetime. */
async function configureMedia(sim: UpstreamSimulator, request: Request): Promise<Response> {
  try {
    return json(mediaJson(sim.configureMedia(JSON.parse(await request.text()))));
  } catch (err) {
    return badRequest(err);
  }
}

/** `{"balance": n | null}`: the account's remaining balance from now on (null = unlimited, the default). */
async function configureCredits(sim: UpstreamSimulator, request: Request): Promise<Response> {
  try {
    return json(sim.configureCredits(JSON.parse(await request.text())));
  } catch (err) {
    return badRequest(err);
  }
}

function mediaJson(settings: MediaSettings): { bytes: number; ttl_ms: number } {
  return { bytes: settings.bytes, ttl_ms: settings.ttlMs };
}

function badRequest(err: unknown): Response {
  const message = err instanceof Error ? err.message : String(err);
  return errorResponse(400, { code: "invalid_request", message, type: "invalid_request_error" });
}
