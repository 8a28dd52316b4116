// The upstream client: injects the operator's key, forwards only allow-listed headers, bounds every call
// with a timeout and a response size cap, and maps every upstream failure to a gateway ApiError. Upstream
// bodies are never passed raw to a tenant.
import type { Context } from "hono";
import type { Config } from "../config/env";
import type { HttpEnv } from "../http/context";
import { UPSTREAM_MAX_RESPONSE_BYTES } from "../config/constants";
import { ApiError } from "../http/errors";
import { readBytesCapped } from "../util/stream";
import type { Logger } from "../http/log";
import { EVOLINK, type UpstreamProvider } from "./providers";
import { type UpstreamTask, UpstreamErrorSchema, UpstreamTaskSchema } from "./schema";

export interface UpstreamCall {
  config: Config;
  log: Logger;
  requestId: string;
  /** The client's request headers, filtered through the provider's allow-list. */
  clientHeaders?: Headers;
  provider?: UpstreamProvider;
}

/** The call context of a request: its config, logger, id and headers (filtered by the provider). */
export function upstreamCall<E extends HttpEnv>(c: Context<E>): UpstreamCall {
  return {
    config: c.get("config"),
    log: c.get("log"),
    requestId: c.get("requestId"),
    clientHeaders: c.req.raw.headers,
  };
}

export async function createUpstreamTask(
  call: UpstreamCall,
  body: Record<string, unknown>,
  idempotencyKey?: string,
): Promise<UpstreamTask> {
  const provider = call.provider ?? EVOLINK;
  const headers = upstreamHeaders(call, provider);
  headers.set("content-type", "application/json");
  if (idempotencyKey) headers.set("idempotency-key", idempotencyKey);
  const res = await sendUpstream(call, provider.createPath, {
    method: "POST",
    headers,
    body: JSON.stringify(body),
  });
  return parseTask(call, res, "create");
}

export async function getUpstreamTask(call: UpstreamCall, upstreamId: string): Promise<UpstreamTask> {
  const provider = call.provider ?? EVOLINK;
  const path = provider.taskPath.replace("{id}", encodeURIComponent(upstreamId));
  const res = await sendUpstream(call, path, { method: "GET", headers: upstreamHeaders(call, provider) });
  return parseTask(call, res, "query");
}

/** The headers of every upstream call: the allow-listed client headers, the request id, the operator's key. */
export function upstreamHeaders(call: UpstreamCall, provider: UpstreamProvider): Headers {
  const headers = new Headers();
  for (const name of provider.forwardHeaders) {
    const v = call.clientHeaders?.get(name);
    if (v) headers.set(name, v);
  }
  headers.set("accept", "application/json");
  headers.set("user-agent", "reelgate/0.1");
  headers.set("x-request-id", call.requestId);
  headers.set(...provider.authHeader(call.config.upstreamApiKey));
  return headers;
}

/** One upstream call, bounded by UPSTREAM_TIMEOUT_MS; unreachable or too slow is an ApiError. */
export async function sendUpstream(call: UpstreamCall, path: string, init: RequestInit): Promise<Response> {
  const url = `${call.config.upstreamBaseUrl}${path}`;
  const started = Date.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(call.config.upstreamTimeoutMs) });
    call.log.debug("upstream_call", { path, status: res.status, ms: Date.now() - started });
    return res;
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    call.log.warn("upstream_unreachable", {
      path,
      timed_out: timedOut,
      ms: Date.now() - started,
      error: String(err),
    });
    if (timedOut) throw new ApiError("upstream_timeout", "The video service did not answer in time");
    throw new ApiError("upstream_error", "The video service could not be reached");
  }
}

/** The answer's JSON, read up to UPSTREAM_MAX_RESPONSE_BYTES; undefined when larger or not JSON. */
export async function readCapped(res: Response): Promise<unknown> {
  const bytes = await readBytesCapped(res.body, UPSTREAM_MAX_RESPONSE_BYTES);
  if (bytes === null) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

async function parseTask(call: UpstreamCall, res: Response, op: "create" | "query"): Promise<UpstreamTask> {
  const body = await readCapped(res);
  if (res.ok) {
    const parsed = UpstreamTaskSchema.safeParse(body);
    if (parsed.success) return parsed.data;
    call.log.error("upstream_bad_response", { op, status: res.status, issues: parsed.error.issues.length });
    throw new ApiError("upstream_error", "The video service returned an unreadable answer");
  }
  throw mapUpstreamError(call, res, body, op);
}

/** Which call failed: a tenant's creation or query, or the operator's balance (./credits.ts). */
export type UpstreamOp = "create" | "query" | "credits";

/** Upstream failure → gateway error. 401/402/403 are the operator's account problem, never the tenant's. */
export function mapUpstreamError(call: UpstreamCall, res: Response, body: unknown, op: UpstreamOp): ApiError {
  const parsed = UpstreamErrorSchema.safeParse(body);
  const upstream = parsed.success ? parsed.data.error : undefined;
  const code = upstream?.code === undefined ? undefined : String(upstream.code);
  const message = scrub(call, upstream?.message);
  switch (res.status) {
    case 400:
      // A tenant's request the upstream refused; the balance read carries nothing of a tenant's.
      if (op === "credits") break;
      return new ApiError("invalid_request", message ?? "The video service rejected the request");
    case 401:
    case 402:
    case 403:
      call.log.error("upstream_account_problem", { op, status: res.status, code });
      return new ApiError("upstream_unavailable", "The video service is temporarily unavailable", {
        headers: { "Retry-After": "60" },
      });
    case 404:
      if (op === "query") return new ApiError("task_not_found", "Task not found");
      break;
    case 409:
      // Only the derived Idempotency-Key can conflict upstream: the same key with a different body.
      if (op === "create" && code === "idempotency_conflict")
        return new ApiError(
          "idempotency_conflict",
          "This Idempotency-Key was already used with a different request",
        );
      break;
    case 429:
      call.log.warn("upstream_rate_limited", { op, code });
      return new ApiError(
        "upstream_rate_limited",
        "The video service is rate limiting requests; retry later",
        {
          headers: { "Retry-After": String(retryAfterSeconds(res.headers.get("retry-after"), Date.now())) },
        },
      );
  }
  call.log.warn("upstream_failed", { op, status: res.status, code });
  return new ApiError("upstream_error", "The video service failed to handle the request");
}

/** Parses Retry-After (seconds or HTTP date) into whole seconds, 1..3600, defaulting to 30. */
export function retryAfterSeconds(header: string | null, now: number): number {
  let s = 30;
  if (header && /^\d+$/.test(header.trim())) s = Number(header.trim());
  else if (header && !Number.isNaN(Date.parse(header))) s = Math.ceil((Date.parse(header) - now) / 1000);
  return Math.min(3600, Math.max(1, s));
}

function scrub(call: UpstreamCall, message: string | undefined): string | undefined {
  if (!message) return undefined;
  return message.split(call.config.upstreamApiKey).join("[redacted]").slice(0, 500);
}
