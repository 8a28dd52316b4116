// Pieces every document shares: the error body, the response headers and the codes any route can answer
// with, described once and referenced by each operation.
import * as z from "zod";
import { MAX_IDEMPOTENCY_KEY_LENGTH } from "../config/constants";
import type { ErrorCode } from "../http/errors";
import type { HeaderName } from "./registry";

/** The one error shape (src/http/errors.ts), EvoLink's: a client branches on `code`. */
export const ErrorBodySchema = z.object({
  error: z.looseObject({
    code: z.string().describe("Stable machine-readable code (see each response's list)."),
    message: z.string().describe("Human-readable explanation; may change."),
    type: z.string().describe("EvoLink-style error type."),
    param: z.string().optional().describe("The request field at fault, when there is one."),
    details: z
      .record(z.string(), z.unknown())
      .optional()
      .describe("Machine-readable figures (quota refusals)."),
  }),
});

/** The files API's errors (src/files/envelope.ts): EvoLink's files envelope and the error above, in one body. */
export const FilesErrorBodySchema = ErrorBodySchema.extend({
  success: z.literal(false),
  code: z.int().describe("The HTTP status, as EvoLink's files API gives it."),
  msg: z.string().describe("The same text as `error.message`."),
});

/**
 * EvoLink's legacy error body (its GET /v1/credits documents it): `code` is the HTTP status as an integer;
 * reelgate's stable code moves to `reason` (src/usage/credits-routes.ts).
 */
export const LegacyErrorBodySchema = z.object({
  error: z.looseObject({
    code: z.int().describe("The HTTP status, as EvoLink's GET /v1/credits gives it."),
    message: z.string().describe("Human-readable explanation; may change."),
    type: z.string().describe("EvoLink-style error type."),
    reason: z.string().describe("reelgate's stable machine-readable code (see each response's list)."),
    param: z.string().optional().describe("The request field at fault, when there is one."),
    fallback_suggestion: z
      .string()
      .optional()
      .describe("`retry after N seconds`, when the answer has a Retry-After."),
  }),
});

/** Codes any route can answer with, whatever it does. */
export const ALWAYS: readonly ErrorCode[] = ["internal_error", "misconfigured"];
/** Codes every tenant route (/v1/*) can answer with: token checks and suspension. */
export const TENANT_AUTH: readonly ErrorCode[] = ["unauthorized", "tenant_suspended"];
/** Codes every tenant read (GET, HEAD) can answer with: its read limit (src/http/read-limit.ts). */
export const TENANT_READ: readonly ErrorCode[] = ["rate_limit_exceeded"];
/**
 * Codes every tenant portal API route can answer with (src/portal): a refused token, and the one not-found
 * for a path that names another tenant or anything not the token's tenant's.
 */
export const PORTAL_AUTH: readonly ErrorCode[] = ["unauthorized", "not_found"];
/** Codes every admin route can answer with. */
export const ADMIN_AUTH: readonly ErrorCode[] = ["unauthorized"];
/**
 * Codes every `/admin/tenants/{tenant_id}/…` sub-resource can answer with: its id is checked and its tenant
 * read before the route runs (src/tenants/admin.ts).
 */
export const ADMIN_TENANT: readonly ErrorCode[] = ["invalid_request", "tenant_not_found"];
export const ADMIN_TENANT_RESOURCE = /^\/admin\/tenants\/\{tenant_id\}\/./;

export const HEADERS: Record<HeaderName | "X-Request-Id", Record<string, unknown>> = {
  "X-Request-Id": {
    description:
      "The request's id (the client's `X-Request-Id` when well-formed, else a new UUID); quote it to operators.",
    schema: { type: "string" },
  },
  "RateLimit-Policy": {
    description:
      'The request limits the caller is under (IETF RateLimit fields draft), e.g. `"tenant-rpm";q=60;w=60, "user-concurrency";q=5;qu="concurrent-requests"`; a refused read names its read limit, e.g. `"user-reads";q=100;w=10`.',
    schema: { type: "string" },
  },
  RateLimit: {
    description: 'What is left of each limit and when it resets, e.g. `"tenant-rpm";r=59;t=60`.',
    schema: { type: "string" },
  },
  "Retry-After": {
    description: "Seconds to wait before retrying.",
    schema: { type: "string", pattern: "^[0-9]+$" },
  },
  "Idempotency-Replayed": {
    description: "`true` when this is the stored answer of an earlier request with the same Idempotency-Key.",
    schema: { type: "string", enum: ["true"] },
  },
  "WWW-Authenticate": {
    description: "The Bearer challenge (RFC 6750) naming why the token was refused.",
    schema: { type: "string" },
  },
  ETag: { description: "The stored file's entity tag.", schema: { type: "string" } },
  "Accept-Ranges": {
    description: "`bytes`: a `Range` request gets only the bytes it asks for.",
    schema: { type: "string", enum: ["bytes"] },
  },
  "Content-Range": {
    description:
      "Which bytes of the file this partial answer holds, e.g. `bytes 0-1023/52428800`; on a 416, `bytes */52428800` (the file's size).",
    schema: { type: "string" },
  },
  "Content-Length": { description: "The file's size in bytes.", schema: { type: "string" } },
};

/** Errors that carry Retry-After. */
export const RETRY_AFTER_CODES: ReadonlySet<ErrorCode> = new Set([
  "rate_limit_exceeded",
  "concurrency_limit_exceeded",
  "event_stream_limit_exceeded",
  "upstream_rate_limited",
  "upstream_unavailable",
  "idempotency_conflict",
]);

export const IDEMPOTENCY_KEY_PARAMETER = {
  name: "Idempotency-Key",
  in: "header",
  required: false,
  description:
    "Makes the request safe to retry: a repeat with the same key and body (per user) gets the first answer (`Idempotency-Replayed: true`) and creates nothing; the same key with another body is `409 idempotency_conflict`.",
  schema: {
    type: "string",
    minLength: 1,
    maxLength: MAX_IDEMPOTENCY_KEY_LENGTH,
    pattern: "^[\\x21-\\x7e]+$",
  },
  example: "order-8812-attempt-1-0001",
};
