// The error codes any operation that calls the upstream can answer with, for the OpenAPI documents.
import type { OperationSpec } from "../openapi/registry";

export const UPSTREAM_ERRORS: OperationSpec["errors"] = [
  "upstream_error",
  "upstream_timeout",
  "upstream_unavailable",
  "upstream_rate_limited",
];
