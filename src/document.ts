// Builds the two OpenAPI 3.1 documents (tenant and admin) from the registered operations and their zod
// schemas, with zod 4's own JSON Schema output (JSON Schema 2020-12 is OpenAPI 3.1's dialect). Run at build
// time by scripts/openapi.mjs; the output is committed (openapi/*.json) and checked for drift in CI.
import * as z from "zod";
import { ERROR_CODES, type ErrorCode } from "./http/errors";
import {
  ALWAYS,
  ADMIN_AUTH,
  ADMIN_TENANT,
  ADMIN_TENANT_RESOURCE,
  ErrorBodySchema,
  FilesErrorBodySchema,
  LegacyErrorBodySchema,
  HEADERS,
  IDEMPOTENCY_KEY_PARAMETER,
  PORTAL_AUTH,
  RETRY_AFTER_CODES,
  TENANT_AUTH,
  TENANT_READ,
} from "./openapi/common";
import { jsonSchema } from "./openapi/json-schema";
import type { Api, OperationSpec, ResponseSpec } from "./openapi/registry";
import { OPERATIONS, OPERATOR_WEBHOOKS, WEBHOOKS } from "./operations";

type Json = Record<string, unknown>;

const INFO: Record<Api, Json> = {
  tenant: {
    title: "reelgate tenant API",
    description:
      'Video generation with EvoLink\'s wan2.6 reference-video models, through reelgate: your backend mints a JWT per user, reelgate checks it, applies your quotas and policy, and forwards to EvoLink with the operator\'s key. Errors are `{"error":{"code","message","type"}}`; branch on `code`. Build a client: docs/client.md in the repository.',
    version: "1.0.0",
  },
  admin: {
    title: "reelgate admin API",
    description:
      "Tenant management, usage ledgers, task lists and webhook deliveries, for the gateway's operator (`Authorization: Bearer $ADMIN_TOKEN`).",
    version: "1.0.0",
  },
};

const SECURITY_SCHEMES: Record<Api, Json> = {
  tenant: {
    tenantJwt: {
      type: "http",
      scheme: "bearer",
      bearerFormat: "JWT",
      description:
        "A JWT minted by the tenant's backend: `iss` and `aud` as registered for the tenant, `exp` required, signed with a key of the tenant's JWKS (or HS256 with its shared secret). `sub` names the end user: tasks, lists and per-user quotas follow it.",
    },
    portalToken: {
      type: "http",
      scheme: "bearer",
      description:
        "The token of a tenant portal link (the fragment of `/portal/{tenant_id}#<token>`, issued by the operator's POST /admin/tenants/{tenant_id}/portal-links): one tenant, an expiry, its capabilities (docs/portal.md).",
    },
  },
  admin: {
    adminToken: { type: "http", scheme: "bearer", description: "The operator's ADMIN_TOKEN secret." },
  },
};

function errorResponses(op: OperationSpec): Record<string, Json> {
  const auth =
    op.security === "tenant"
      ? TENANT_AUTH
      : op.security === "admin"
        ? ADMIN_AUTH
        : op.security === "portal"
          ? PORTAL_AUTH
          : [];
  const scoped = ADMIN_TENANT_RESOURCE.test(op.path) ? ADMIN_TENANT : [];
  const read = op.security === "tenant" && (op.method === "get" || op.method === "head") ? TENANT_READ : [];
  const codes = [...new Set<ErrorCode>([...auth, ...scoped, ...read, ...op.errors, ...ALWAYS])];
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of codes) {
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const out: Record<string, Json> = {};
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    const headers: Json = { "X-Request-Id": { $ref: "#/components/headers/X-Request-Id" } };
    if (list.some((c) => RETRY_AFTER_CODES.has(c)))
      headers["Retry-After"] = { $ref: "#/components/headers/Retry-After" };
    if (status === 401) headers["WWW-Authenticate"] = { $ref: "#/components/headers/WWW-Authenticate" };
    // A rate refusal names the limit it enforced (creation's window, a read limit).
    if (list.includes("rate_limit_exceeded")) {
      headers["RateLimit-Policy"] = { $ref: "#/components/headers/RateLimit-Policy" };
      headers["RateLimit"] = { $ref: "#/components/headers/RateLimit" };
    }
    if (op.idempotencyKey) {
      // A repeated Idempotency-Key replays the first answer, errors included; quota refusals (402, 429)
      // carry the RateLimit fields of the admission that refused them.
      headers["Idempotency-Replayed"] = { $ref: "#/components/headers/Idempotency-Replayed" };
      if (status === 402 || status === 429) {
        headers["RateLimit-Policy"] = { $ref: "#/components/headers/RateLimit-Policy" };
        headers["RateLimit"] = { $ref: "#/components/headers/RateLimit" };
      }
    }
    const error = { code: list[0], message: "…", type: ERROR_CODES[list[0]!].type };
    const codes = { error: { type: "object", properties: { code: { enum: list } } } };
    const evolink = op.errorEnvelope === "evolink";
    const legacy = op.errorEnvelope === "evolink-legacy";
    const legacyCodes = {
      error: { type: "object", properties: { code: { const: status }, reason: { enum: list } } },
    };
    out[String(status)] = {
      description: list.map((c) => `\`${c}\``).join(", "),
      headers,
      content: {
        "application/json": {
          schema: {
            allOf: [
              { $ref: `#/components/schemas/${evolink ? "FilesError" : legacy ? "LegacyError" : "Error"}` },
              {
                type: "object",
                properties: evolink ? { code: { const: status }, ...codes } : legacy ? legacyCodes : codes,
              },
            ],
          },
          example: evolink
            ? { success: false, code: status, msg: "…", error }
            : legacy
              ? { error: { ...error, code: status, reason: list[0] } }
              : { error },
        },
      },
    };
  }
  return out;
}

function successResponse(r: ResponseSpec): Json {
  const headers: Json = { "X-Request-Id": { $ref: "#/components/headers/X-Request-Id" } };
  for (const h of r.headers ?? []) headers[h] = { $ref: `#/components/headers/${h}` };
  const out: Json = { description: r.description, headers };
  if (r.binary) out.content = Object.fromEntries(r.binary.map((type) => [type, {}]));
  if (r.eventStream) {
    const { description, example } = r.eventStream;
    out.content = { "text/event-stream": { schema: { type: "string", description }, example } };
  }
  if (r.schema) {
    out.content = {
      "application/json": {
        schema: jsonSchema(r.schema, "output"),
        ...(r.example !== undefined ? { example: r.example } : {}),
      },
    };
  }
  return out;
}

function parameters(op: OperationSpec): Json[] {
  const out: Json[] = [];
  for (const [name, p] of Object.entries(op.pathParams ?? {})) {
    out.push({
      name,
      in: "path",
      required: true,
      description: p.description,
      schema: jsonSchema(p.schema, "input"),
      ...(p.example ? { example: p.example } : {}),
    });
  }
  if (op.query) {
    const schema = jsonSchema(op.query, "input") as {
      properties?: Record<string, Json>;
      required?: string[];
    };
    for (const [name, s] of Object.entries(schema.properties ?? {})) {
      out.push({
        name,
        in: "query",
        required: schema.required?.includes(name) ?? false,
        ...(op.queryDescriptions?.[name] ? { description: op.queryDescriptions[name] } : {}),
        schema: s,
      });
    }
  }
  if (op.idempotencyKey) out.push({ $ref: "#/components/parameters/IdempotencyKey" });
  for (const [name, h] of Object.entries(op.requestHeaders ?? {})) {
    out.push({
      name,
      in: "header",
      required: false,
      description: h.description,
      schema: { type: "string" },
      ...(h.example ? { example: h.example } : {}),
    });
  }
  return out;
}

function operation(op: OperationSpec): Json {
  const body = op.body;
  const scheme = { tenant: "tenantJwt", admin: "adminToken", portal: "portalToken" } as const;
  const security = op.security === "none" ? [] : [{ [scheme[op.security]]: [] }];
  const responses: Json = {};
  for (const [status, r] of Object.entries(op.responses)) responses[status] = successResponse(r);
  Object.assign(responses, errorResponses(op));
  return {
    operationId: op.operationId,
    summary: op.summary,
    ...(op.description ? { description: op.description } : {}),
    tags: [op.tag],
    security,
    ...(parameters(op).length ? { parameters: parameters(op) } : {}),
    ...(body
      ? {
          requestBody: {
            required: true,
            ...(body.description ? { description: body.description } : {}),
            content: {
              [body.mediaType ?? "application/json"]: {
                schema:
                  body.schema instanceof z.core.$ZodType ? jsonSchema(body.schema, "input") : body.schema,
                ...(body.examples ? { examples: body.examples } : {}),
              },
            },
          },
        }
      : {}),
    responses,
  };
}

/** The OpenAPI 3.1 document of `api`. Deterministic: same operations, same bytes. */
export function buildDocument(api: Api, operations: readonly OperationSpec[] = OPERATIONS): Json {
  const paths: Record<string, Json> = {};
  const ops = operations.filter((op) => op.api === api);
  for (const op of [...ops].sort((a, b) => a.path.localeCompare(b.path))) {
    const item = (paths[op.path] ??= {});
    if (item[op.method])
      throw new Error(`OpenAPI: ${op.method.toUpperCase()} ${op.path} is registered twice`);
    item[op.method] = operation(op);
  }
  const tags = [...new Set(ops.map((op) => op.tag))].map((name) => ({ name }));
  return {
    openapi: "3.1.0",
    info: INFO[api],
    tags,
    paths,
    webhooks: api === "tenant" ? WEBHOOKS : OPERATOR_WEBHOOKS,
    components: {
      securitySchemes: SECURITY_SCHEMES[api],
      schemas: {
        Error: jsonSchema(ErrorBodySchema, "output"),
        ...(ops.some((op) => op.errorEnvelope === "evolink")
          ? { FilesError: jsonSchema(FilesErrorBodySchema, "output") }
          : {}),
        ...(ops.some((op) => op.errorEnvelope === "evolink-legacy")
          ? { LegacyError: jsonSchema(LegacyErrorBodySchema, "output") }
          : {}),
      },
      headers: HEADERS,
      parameters: { IdempotencyKey: IDEMPOTENCY_KEY_PARAMETER },
    },
  };
}
