// Holds every response the suite gets through `gw()` to the committed OpenAPI documents: the operation for
// the method and path, the response for the status, the body against its JSON Schema. A response the
// documents do not describe throws, failing the test that got it. Requests no route matches must get the
// documented error shape with 401, 404 or 405.
import { Validator, type Schema } from "@cfworker/json-schema";
import admin from "../../openapi/admin.json";
import tenant from "../../openapi/tenant.json";

type Json = Record<string, unknown>;
interface Operation {
  responses: Record<string, { headers?: Json; content?: Record<string, { schema: Json }> }>;
}

/** Headers the documents describe per response: one a response carries must be documented for it. */
const DESCRIBED_HEADERS = [
  "ratelimit-policy",
  "ratelimit",
  "retry-after",
  "idempotency-replayed",
  "www-authenticate",
];
interface Route {
  method: string;
  template: string;
  pattern: RegExp;
  operation: Operation;
  doc: Json;
}

export const DOCUMENTS = { tenant: tenant as unknown as Json, admin: admin as unknown as Json };

export const openApiStats = { checked: 0, unrouted: 0 };

function routesOf(doc: Json): Route[] {
  const out: Route[] = [];
  for (const [template, item] of Object.entries(doc.paths as Record<string, Record<string, Operation>>)) {
    const source = template.replace(/\./g, "\\.").replace(/\{[^}]+\}/g, "[^/]+");
    for (const [method, operation] of Object.entries(item)) {
      out.push({
        method: method.toUpperCase(),
        template,
        pattern: new RegExp(`^${source}$`),
        operation,
        doc,
      });
    }
  }
  return out;
}

const ROUTES = [...routesOf(DOCUMENTS.tenant), ...routesOf(DOCUMENTS.admin)];

/** Inlines the document's local `$ref`s, so the validator sees one self-contained schema. */
function inline(doc: Json, node: unknown, depth = 0): unknown {
  if (depth > 32) throw new Error("OpenAPI: $ref nesting too deep");
  if (Array.isArray(node)) return node.map((n) => inline(doc, n, depth));
  if (typeof node !== "object" || node === null) return node;
  const obj = node as Json;
  if (typeof obj.$ref === "string") {
    const target = obj.$ref
      .slice(2)
      .split("/")
      .reduce<unknown>((n, part) => (n as Json)[part.replace(/~1/g, "/").replace(/~0/g, "~")], doc);
    return inline(doc, target, depth + 1);
  }
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, inline(doc, v, depth)]));
}

const validators = new Map<string, Validator>();
function validatorFor(key: string, doc: Json, schema: Json): Validator {
  let v = validators.get(key);
  if (!v) validators.set(key, (v = new Validator(inline(doc, schema) as Schema, "2020-12", false)));
  return v;
}

const ERROR_SCHEMA = () => (DOCUMENTS.tenant.components as { schemas: { Error: Json } }).schemas.Error;
/** Beneath the files API's mount (src/app.ts) its own onError answers, in both envelopes (FilesError). */
const FILES_API_PREFIX = "/api/v1/files/";
const FILES_ERROR_SCHEMA = (status: number) => ({
  allOf: [{ $ref: "#/components/schemas/FilesError" }, { properties: { code: { const: status } } }],
});

/** Throws when `res` is not what the documents say `method url` answers. */
export async function checkAgainstOpenApi(method: string, url: string, res: Response): Promise<void> {
  const verb = method.toUpperCase();
  if (verb === "OPTIONS") return;
  const path = new URL(url).pathname;
  const where = `${verb} ${path} → ${res.status}`;
  // An event stream is held to its media type only: its body lasts as long as the stream (the events tests
  // read and check it as it comes); reading it here would wait for its end.
  const streamed = (res.headers.get("content-type") ?? "").startsWith("text/event-stream");
  const text = streamed ? "" : new TextDecoder().decode(await res.clone().arrayBuffer());
  const candidates = ROUTES.filter((r) => r.pattern.test(path));
  // HEAD is GET without the body (RFC 9110): held to its own operation, else to GET's statuses and headers.
  const route =
    candidates.find((r) => r.method === verb) ??
    (verb === "HEAD" ? candidates.find((r) => r.method === "GET") : undefined);
  if (!route) {
    openApiStats.unrouted++;
    if (![401, 404, 405].includes(res.status))
      throw new Error(`OpenAPI: no documented operation for ${where}, and it is not a 401/404/405`);
    if (verb === "HEAD") return noBody(text, where);
    if (path.startsWith(FILES_API_PREFIX))
      return checkBody(
        `unrouted files ${res.status}`,
        DOCUMENTS.tenant,
        FILES_ERROR_SCHEMA(res.status),
        text,
        where,
      );
    return checkBody(`unrouted ${res.status}`, DOCUMENTS.tenant, ERROR_SCHEMA(), text, where);
  }
  openApiStats.checked++;
  const response = route.operation.responses[String(res.status)];
  if (!response)
    throw new Error(`OpenAPI: ${where} is not a documented response of ${verb} ${route.template}`);
  const documentedHeaders = new Set(Object.keys(response.headers ?? {}).map((h) => h.toLowerCase()));
  if (!res.headers.has("x-request-id")) throw new Error(`OpenAPI: ${where} has no X-Request-Id`);
  for (const name of DESCRIBED_HEADERS) {
    if (res.headers.has(name) && !documentedHeaders.has(name))
      throw new Error(`OpenAPI: ${where} carries ${name}, which the document does not give this response`);
  }
  if (verb === "HEAD") return noBody(text, where);
  const type = res.headers.get("content-type") ?? "";
  if (streamed) {
    if (!response.content?.["text/event-stream"])
      throw new Error(`OpenAPI: ${where} is an event stream, which the document does not give this response`);
    return;
  }
  const media = response.content?.["application/json"];
  const others = Object.keys(response.content ?? {}).filter((t) => t !== "application/json");
  if (!media && others.length > 0) {
    // A file's bytes: the document names the media types it may have, not the bytes.
    const essence = type.split(";")[0]!.trim().toLowerCase();
    if (!others.includes(essence))
      throw new Error(`OpenAPI: ${where} is ${type || "untyped"}, not one of ${others.join(", ")}`);
    return;
  }
  if (!media) return noBody(text, where);
  if (!type.startsWith("application/json"))
    throw new Error(`OpenAPI: ${where} is ${type}, not application/json`);
  return checkBody(`${verb} ${route.template} ${res.status}`, route.doc, media.schema, text, where);
}

function noBody(text: string, where: string): void {
  if (text !== "") throw new Error(`OpenAPI: ${where} has a body, but the document gives it none`);
}

function checkBody(key: string, doc: Json, schema: Json, text: string, where: string): void {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new Error(`OpenAPI: ${where} is not JSON`);
  }
  const result = validatorFor(key, doc, schema).validate(body);
  if (!result.valid) {
    const errors = result.errors.map((e) => `${e.instanceLocation}: ${e.error}`).slice(-6);
    throw new Error(
      `OpenAPI: ${where} does not match its documented schema:\n  ${errors.join("\n  ")}\n${text.slice(0, 500)}`,
    );
  }
}
