// How a route describes itself for the OpenAPI documents: one `OperationSpec` per method and path, written
// next to its route module (`*.openapi.ts`) with the zod schemas the route validates with, and listed in
// src/operations.ts. Only the build (scripts/openapi.mjs) and the tests import these; the Worker never does.
import type * as z from "zod";
import type { ErrorCode } from "../http/errors";

/** Which document an operation belongs to: the tenant API (/openapi.json) or the admin API. */
export type Api = "tenant" | "admin";

/** Response headers described once in components.headers. */
export type HeaderName =
  | "RateLimit-Policy"
  | "RateLimit"
  | "Retry-After"
  | "Idempotency-Replayed"
  | "WWW-Authenticate"
  | "ETag"
  | "Accept-Ranges"
  | "Content-Range"
  | "Content-Length";

export interface ResponseSpec {
  description: string;
  /** The JSON body (output mode: fields the schema lacks are refused by the response test). */
  schema?: z.core.$ZodType;
  headers?: readonly HeaderName[];
  example?: unknown;
  /** A body that is not JSON (a file's bytes): its possible media types; the bytes are not described. */
  binary?: readonly string[];
  /** A `text/event-stream` body (Server-Sent Events): what its events are, and an example of the stream. */
  eventStream?: { description: string; example: string };
}

export interface OperationSpec {
  api: Api;
  method: "get" | "head" | "post" | "put" | "delete";
  /** OpenAPI path template, e.g. /v1/tasks/{task_id}. */
  path: string;
  operationId: string;
  summary: string;
  description?: string;
  tag: string;
  /** tenant: a tenant JWT; admin: the ADMIN_TOKEN; portal: a tenant portal link's token; none: no Authorization. */
  security: "tenant" | "admin" | "portal" | "none";
  pathParams?: Record<string, { schema: z.core.$ZodType; description: string; example?: string }>;
  /** Each property is one query parameter (input mode: defaults shown, coercions as their number type). */
  query?: z.core.$ZodType;
  queryDescriptions?: Record<string, string>;
  /** The operation reads an Idempotency-Key request header. */
  idempotencyKey?: boolean;
  /** Other request headers it reads (optional ones), by name. */
  requestHeaders?: Record<string, { description: string; example?: string }>;
  body?: {
    schema: z.core.$ZodType | Record<string, unknown>;
    /** application/json unless given (e.g. multipart/form-data). */
    mediaType?: string;
    description?: string;
    examples?: Record<string, unknown>;
  };
  /** Success responses by status. */
  responses: Record<number, ResponseSpec>;
  /** Error codes the operation can answer with; each is rendered under its status (src/http/errors.ts). */
  errors: readonly ErrorCode[];
  /**
   * evolink: the errors carry EvoLink's files-API envelope too (`{success:false, code, msg, error:{…}}`,
   * the FilesError schema), as /api/v1/files/* answers them (src/files/envelope.ts). evolink-legacy: EvoLink's
   * legacy body `{error:{code:<status>, message, type, reason, fallback_suggestion?}}` (the LegacyError
   * schema), as GET /v1/credits answers them (src/usage/credits-routes.ts).
   */
  errorEnvelope?: "evolink" | "evolink-legacy";
}
