// The one error type of the gateway. Every error that reaches a client is an ApiError rendered by
// `renderError` in the upstream's shape {"error":{"code","message","type"}} (+ `param` for field errors),
// so a client written for EvoLink branches on the same `code` strings.
import type { ContentfulStatusCode } from "hono/utils/http-status";

/** Stable codes a client can branch on, with their HTTP status and the upstream-style `type`. */
export const ERROR_CODES = {
  invalid_request: { status: 400, type: "invalid_request_error" },
  unauthorized: { status: 401, type: "authentication_error" },
  insufficient_quota: { status: 402, type: "insufficient_quota" },
  tenant_suspended: { status: 403, type: "permission_error" },
  policy_violation: { status: 403, type: "permission_error" },
  forbidden: { status: 403, type: "permission_error" },
  not_found: { status: 404, type: "not_found_error" },
  task_not_found: { status: 404, type: "invalid_request_error" },
  result_not_found: { status: 404, type: "not_found_error" },
  tenant_not_found: { status: 404, type: "not_found_error" },
  delivery_not_found: { status: 404, type: "not_found_error" },
  method_not_allowed: { status: 405, type: "invalid_request_error" },
  issuer_conflict: { status: 409, type: "conflict_error" },
  idempotency_conflict: { status: 409, type: "conflict_error" },
  tenant_busy: { status: 409, type: "conflict_error" },
  task_in_flight: { status: 409, type: "conflict_error" },
  payload_too_large: { status: 413, type: "invalid_request_error" },
  unsupported_media_type: { status: 415, type: "invalid_request_error" },
  rate_limit_exceeded: { status: 429, type: "rate_limit_error" },
  concurrency_limit_exceeded: { status: 429, type: "rate_limit_error" },
  event_stream_limit_exceeded: { status: 429, type: "rate_limit_error" },
  upstream_rate_limited: { status: 429, type: "rate_limit_error" },
  internal_error: { status: 500, type: "api_error" },
  upstream_error: { status: 502, type: "upstream_error" },
  upstream_unavailable: { status: 503, type: "service_unavailable_error" },
  misconfigured: { status: 503, type: "api_error" },
  upstream_timeout: { status: 504, type: "upstream_error" },
} as const satisfies Record<string, { status: number; type: string }>;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ApiErrorOptions {
  /** The request field at fault, for 400s. */
  param?: string;
  /** Extra response headers (`WWW-Authenticate`, `Retry-After`, …). */
  headers?: Record<string, string>;
  /** Extra machine-readable detail merged into the error object (quota figures, …). */
  details?: Record<string, unknown>;
  /** Overrides the code's default status (rare: an upstream 5xx mapped verbatim). */
  status?: ContentfulStatusCode;
}

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly status: ContentfulStatusCode;
  readonly param: string | undefined;
  readonly headers: Record<string, string>;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: ApiErrorOptions = {}) {
    super(message);
    this.name = "ApiError";
    this.code = code;
    this.status = options.status ?? (ERROR_CODES[code].status as ContentfulStatusCode);
    this.param = options.param;
    this.headers = options.headers ?? {};
    this.details = options.details;
  }

  /** The JSON body, in the upstream's error shape. */
  toJSON(): { error: Record<string, unknown> } {
    const error: Record<string, unknown> = {
      code: this.code,
      message: this.message,
      type: ERROR_CODES[this.code].type,
    };
    if (this.param !== undefined) error.param = this.param;
    if (this.details) Object.assign(error, this.details);
    return { error };
  }
}

/** Renders any ApiError as a Response. */
export function errorResponse(err: ApiError, requestId?: string): Response {
  const headers = new Headers(err.headers);
  headers.set("content-type", "application/json; charset=utf-8");
  headers.set("cache-control", "no-store");
  if (requestId) headers.set("x-request-id", requestId);
  return new Response(JSON.stringify(err.toJSON()), { status: err.status, headers });
}

/** An ApiError as plain data: errors lose their class on the way back over RPC (a Durable Object's answer). */
export interface ErrorData {
  code: ErrorCode;
  message: string;
  status: number;
  headers: Record<string, string>;
  details: Record<string, unknown> | undefined;
  param: string | undefined;
}

export function errorData(err: ApiError): ErrorData {
  const { code, message, status, headers, details, param } = err;
  return { code, message, status, headers, details, param };
}

export function apiErrorFrom(data: ErrorData): ApiError {
  return new ApiError(data.code, data.message, {
    status: data.status as ApiError["status"],
    headers: data.headers,
    details: data.details,
    param: data.param,
  });
}
