// The Durable Object that hosts the one simulator instance of the sim Worker, and the reading of its vars.
// Kept apart from worker.ts because a Worker's entry module may export only handlers and classes.
import { DurableObject } from "cloudflare:workers";
import { UpstreamSimulator } from "./core";
import type { SimOptions } from "./types";

/** How often the alarm advances the simulator while tasks or callbacks are outstanding. */
export const TICK_INTERVAL_MS = 500;
const DEFAULT_API_KEY = "sim-local-key";

export interface SimEnv {
  SIM: DurableObjectNamespace<UpstreamSimHost>;
  /** The only bearer key the simulator accepts (default "sim-local-key"). */
  SIM_API_KEY?: string;
  /** The upstream's OpenAPI docs keyed by file name, as JSON text or already parsed. */
  UPSTREAM_CONTRACT?: unknown;
  /** "true" lets callbacks go to http:// and internal addresses (local dev only). */
  SIM_ALLOW_LOCAL_CALLBACKS?: string;
  SIM_COMPLETE_AFTER_MS?: string;
  SIM_PROCESSING_AFTER_MS?: string;
  /** Largest file the files API accepts, in bytes (default 100 MB). */
  SIM_FILES_MAX_BYTES?: string;
  /** Origin of the results' links; under `npm start` the simulator's own (http://127.0.0.1:8788). */
  SIM_MEDIA_BASE_URL?: string;
  /** Size of each result in bytes (default 2,000,000) and its link's lifetime in ms (default 24 h). */
  SIM_RESULT_BYTES?: string;
  SIM_RESULT_TTL_MS?: string;
}

export class UpstreamSimHost extends DurableObject<SimEnv> {
  private readonly sim: UpstreamSimulator;

  constructor(ctx: DurableObjectState, env: SimEnv) {
    super(ctx, env);
    this.sim = new UpstreamSimulator(optionsFromEnv(env));
  }

  override async fetch(request: Request): Promise<Response> {
    const response = await this.sim.fetch(request);
    await this.keepTicking();
    return response;
  }

  override async alarm(): Promise<void> {
    await this.sim.tick();
    if (this.sim.busy) await this.ctx.storage.setAlarm(Date.now() + TICK_INTERVAL_MS);
  }

  private async keepTicking(): Promise<void> {
    if (this.sim.busy && (await this.ctx.storage.getAlarm()) === null)
      await this.ctx.storage.setAlarm(Date.now() + TICK_INTERVAL_MS);
  }
}

/** Reads the simulator's settings from the Worker's vars; throws on a malformed one. */
export function optionsFromEnv(env: Omit<SimEnv, "SIM">): SimOptions {
  const completeAfterMs = intVar("SIM_COMPLETE_AFTER_MS", env.SIM_COMPLETE_AFTER_MS);
  const processingAfterMs = intVar("SIM_PROCESSING_AFTER_MS", env.SIM_PROCESSING_AFTER_MS);
  const filesMaxBytes = intVar("SIM_FILES_MAX_BYTES", env.SIM_FILES_MAX_BYTES);
  const resultBytes = intVar("SIM_RESULT_BYTES", env.SIM_RESULT_BYTES);
  const resultTtlMs = intVar("SIM_RESULT_TTL_MS", env.SIM_RESULT_TTL_MS);
  return {
    apiKey: env.SIM_API_KEY || DEFAULT_API_KEY,
    contract: parseContract(env.UPSTREAM_CONTRACT),
    allowLocalCallbacks: env.SIM_ALLOW_LOCAL_CALLBACKS === "true",
    ...(filesMaxBytes !== undefined && { filesMaxBytes }),
    ...(env.SIM_MEDIA_BASE_URL && { mediaBaseUrl: env.SIM_MEDIA_BASE_URL }),
    ...(resultBytes !== undefined && { resultBytes }),
    ...(resultTtlMs !== undefined && { resultTtlMs }),
    timings: {
      ...(completeAfterMs !== undefined && { completeAfterMs }),
      ...(processingAfterMs !== undefined && { processingAfterMs }),
    },
  };
}

function intVar(name: string, value: string | undefined): number | undefined {
  if (value === undefined || value === "") return undefined;
  const ms = Number(value);
  if (!Number.isInteger(ms) || ms < 0) throw new Error(`${name} must be a non-negative integer`);
  return ms;
}

function parseContract(value: unknown): Record<string, unknown> | null {
  if (value === undefined || value === null || value === "") return null;
  const parsed: unknown = typeof value === "string" ? JSON.parse(value) : value;
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
    throw new Error("UPSTREAM_CONTRACT must be a JSON object keyed by file name");
  return parsed as Record<string, unknown>;
}
