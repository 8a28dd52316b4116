// The upstream's error answers, word for word from its docs: README §2a for the generation endpoint and
// §2c for the task query (their codes differ for the same status). Every error the simulator sends is built here.
import type { FaultStatus } from "./types";

interface ErrorSpec {
  code: string;
  message: string;
  type: string;
}

/** POST /v1/videos/generations (README §2a; 503 from the legacy table §2b / EvoLink's client codes). */
const CREATE_ERRORS: Record<FaultStatus, ErrorSpec> = {
  401: { code: "unauthorized", message: "Invalid or expired token", type: "authentication_error" },
  402: {
    code: "insufficient_quota",
    message: "Insufficient quota. Please top up your account.",
    type: "insufficient_quota",
  },
  403: {
    code: "model_access_denied",
    message: "Token does not have access to model: wan2.6-reference-video-flash",
    type: "invalid_request_error",
  },
  429: {
    code: "rate_limit_exceeded",
    message: "Too many requests, please try again later",
    type: "rate_limit_error",
  },
  500: { code: "internal_error", message: "Internal server error", type: "api_error" },
  503: {
    code: "service_unavailable",
    message: "Service temporarily unavailable",
    type: "service_unavailable_error",
  },
};

/** GET /v1/tasks/{task_id} (README §2c). */
const QUERY_ERRORS: Record<FaultStatus, ErrorSpec> = {
  401: { code: "unauthorized", message: "Authentication required", type: "authentication_error" },
  402: {
    code: "quota_exceeded",
    message: "Insufficient quota. Please top up your account.",
    type: "insufficient_quota",
  },
  403: {
    code: "permission_denied",
    message: "You don't have permission to access this task",
    type: "invalid_request_error",
  },
  429: { code: "rate_limit_exceeded", message: "Rate limit exceeded", type: "evo_api_error" },
  500: { code: "internal_error", message: "Failed to retrieve task status", type: "api_error" },
  503: {
    code: "service_unavailable",
    message: "Service temporarily unavailable",
    type: "service_unavailable_error",
  },
};

export type Endpoint = "create" | "query";

export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

export function errorResponse(
  status: number,
  spec: ErrorSpec & { param?: string },
  headers: Record<string, string> = {},
): Response {
  return json({ error: spec }, status, headers);
}

/** The documented answer for `status` on `endpoint`, with Retry-After on a 429. */
export function statusError(endpoint: Endpoint, status: FaultStatus, retryAfterSeconds = 60): Response {
  const spec = (endpoint === "create" ? CREATE_ERRORS : QUERY_ERRORS)[status];
  const headers: Record<string, string> = status === 429 ? { "retry-after": String(retryAfterSeconds) } : {};
  return errorResponse(status, spec, headers);
}

export function invalidRequest(problems: string[]): Response {
  return errorResponse(400, {
    code: "invalid_request",
    message: `Invalid request parameters: ${problems.join("; ")}`,
    type: "invalid_request_error",
  });
}

export function invalidTaskId(): Response {
  return errorResponse(400, {
    code: "invalid_task_id",
    message: "Invalid task ID format, must start with 'task-unified-'",
    type: "invalid_request_error",
    param: "task_id",
  });
}

export function taskNotFound(): Response {
  return errorResponse(404, {
    code: "task_not_found",
    message: "The requested task could not be found",
    type: "invalid_request_error",
  });
}

export function idempotencyConflict(): Response {
  return errorResponse(409, {
    code: "idempotency_conflict",
    message: "Idempotency-Key was already used with a different request body",
    type: "invalid_request_error",
  });
}

export function routeNotFound(method: string, path: string): Response {
  return errorResponse(404, {
    code: "not_found",
    message: `No route for ${method} ${path}`,
    type: "invalid_request_error",
  });
}
