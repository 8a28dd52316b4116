// Answers for requests that repeat an Idempotency-Key: the stored first answer (`Idempotency-Replayed:
// true`), or — while the first request is still running — a short wait for it. A duplicate never calls
// the upstream; if the first does not finish within the upstream timeout (+ margin) it gets a 409.
import type { Context } from "hono";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import {
  IDEMPOTENCY_POLL_MAX_MS,
  IDEMPOTENCY_POLL_MIN_MS,
  IDEMPOTENCY_WAIT_MARGIN_MS,
} from "../config/constants";
import type { HttpEnv } from "../http/context";
import { ApiError } from "../http/errors";
import type { StoredResponse, WaitOutcome } from "./keys";

export function replayed<E extends HttpEnv>(c: Context<E>, stored: StoredResponse): Response {
  const headers: Record<string, string> = {
    "content-type": "application/json; charset=utf-8",
    "Idempotency-Replayed": "true",
  };
  if (stored.retryAfter) headers["Retry-After"] = stored.retryAfter;
  return c.body(stored.body, stored.status as ContentfulStatusCode, headers);
}

/** What the gateway keeps of a failed first attempt, so its waiting duplicates get the same answer. */
export function storedFailure(err: unknown): StoredResponse {
  const error = err instanceof ApiError ? err : new ApiError("internal_error", "Internal server error");
  const retryAfter = error.headers["Retry-After"];
  return {
    status: error.status,
    body: JSON.stringify(error.toJSON()),
    ...(retryAfter ? { retryAfter } : {}),
  };
}

export const stillRunning = () =>
  new ApiError(
    "idempotency_conflict",
    "A request with this Idempotency-Key is still being processed; retry shortly",
    { param: "Idempotency-Key", headers: { "Retry-After": "1" } },
  );

/** Polls `check` with a growing interval until the first request's answer is there or time runs out. */
export async function waitForFirst(
  check: () => Promise<WaitOutcome>,
  upstreamTimeoutMs: number,
): Promise<StoredResponse> {
  const deadline = Date.now() + upstreamTimeoutMs + IDEMPOTENCY_WAIT_MARGIN_MS;
  let interval = IDEMPOTENCY_POLL_MIN_MS;
  for (;;) {
    const outcome = await check();
    if (outcome.kind === "done") return outcome.response;
    if (outcome.kind === "gone" || Date.now() + interval > deadline) throw stillRunning();
    await new Promise((resolve) => setTimeout(resolve, interval));
    interval = Math.min(IDEMPOTENCY_POLL_MAX_MS, interval * 2);
  }
}
