// Validation against the upstream's own OpenAPI files (README §8: the oracle). The simulator checks every
// create body with it, and the gateway's contract tests check what it sends and what it relays. The docs are
// never copied into the repo; they arrive as data (env.UPSTREAM_CONTRACT, keyed by file name).
import { Validator, type OutputUnit, type Schema } from "@cfworker/json-schema";

export const FLASH_FILE = "openapi-wan2.6-reference-video-flash.json";
export const TASK_FILE = "openapi-get-task-detail.json";
export const FLASH_REQUEST_SCHEMA = "Wan26ReferenceVideoFlashRequest";
export const NON_FLASH_FILE = "openapi-wan2.6-reference-video.json";
export const NON_FLASH_REQUEST_SCHEMA = "Wan26ReferenceVideoRequest";
export const TASK_DETAIL_SCHEMA = "TaskDetailResponse";

type Contract = Record<string, unknown>;
type Json = Record<string, unknown>;

const MAX_REF_DEPTH = 32;
/** Wrapper errors that only repeat a nested error ("Property x does not match schema"). */
const WRAPPER_KEYWORDS = new Set(["properties", "items", "$ref", "allOf", "anyOf", "oneOf"]);

const cache = new WeakMap<Contract, Map<string, Validator>>();

/**
 * Errors of `body` against its model's request schema (the non-flash file for `wan2.6-reference-video`, the
 * flash file otherwise); empty = valid. Throws when the contract lacks the file.
 */
export function validateAgainstContract(contract: Contract, body: unknown): string[] {
  const model = isObject(body) ? body.model : undefined;
  return model === "wan2.6-reference-video"
    ? validateWith(contract, NON_FLASH_FILE, NON_FLASH_REQUEST_SCHEMA, body)
    : validateWith(contract, FLASH_FILE, FLASH_REQUEST_SCHEMA, body);
}

/** Errors of `body` against TaskDetailResponse (openapi-get-task-detail.json); empty = valid. */
export function validateTaskDetail(contract: Contract, body: unknown): string[] {
  return validateWith(contract, TASK_FILE, TASK_DETAIL_SCHEMA, body);
}

/** Errors of `body` against `components.schemas[schemaName]` of `file`. */
export function validateWith(contract: Contract, file: string, schemaName: string, body: unknown): string[] {
  // Validate what would go on the wire: undefined members vanish, as JSON.stringify drops them.
  const instance: unknown = body === undefined ? null : JSON.parse(JSON.stringify(body));
  const result = validatorFor(contract, file, schemaName).validate(instance);
  if (result.valid) return [];
  const leaves = result.errors.filter((e) => !WRAPPER_KEYWORDS.has(e.keyword));
  return (leaves.length > 0 ? leaves : result.errors).map(describe);
}

function describe(unit: OutputUnit): string {
  const at = unit.instanceLocation.replace(/^#\/?/, "") || "(body)";
  return `${at}: ${unit.error}`;
}

function validatorFor(contract: Contract, file: string, schemaName: string): Validator {
  let perContract = cache.get(contract);
  if (!perContract) cache.set(contract, (perContract = new Map()));
  const key = `${file}#${schemaName}`;
  let validator = perContract.get(key);
  if (!validator) {
    validator = new Validator(schemaFrom(contract, file, schemaName) as Schema, "2020-12", false);
    perContract.set(key, validator);
  }
  return validator;
}

/** A self-contained JSON Schema: the named component with its local `$ref`s inlined. */
export function schemaFrom(contract: Contract, file: string, schemaName: string): Json {
  const doc = contract[file];
  if (!isObject(doc)) throw new Error(`upstream contract has no ${file}`);
  const schema = resolvePointer(doc, `#/components/schemas/${schemaName}`);
  return inline(doc, schema, 0) as Json;
}

function inline(doc: Json, node: unknown, depth: number): unknown {
  if (depth > MAX_REF_DEPTH) throw new Error("upstream contract: $ref nesting too deep (cycle?)");
  if (Array.isArray(node)) return node.map((n) => inline(doc, n, depth));
  if (!isObject(node)) return node;
  let out: Json = {};
  if (typeof node.$ref === "string") {
    const { $ref, ...siblings } = node;
    const target = inline(doc, resolvePointer(doc, $ref), depth + 1) as Json;
    out = { ...target, ...(inline(doc, siblings, depth) as Json) };
  } else {
    for (const [k, v] of Object.entries(node)) out[k] = inline(doc, v, depth);
  }
  return openApiNullable(out);
}

/** OpenAPI 3.0's `nullable: true` (still used in these 3.1 files) as JSON Schema: the type also allows null. */
function openApiNullable(schema: Json): Json {
  if (schema.nullable !== true || typeof schema.type !== "string") return schema;
  return { ...schema, type: [schema.type, "null"] };
}

function resolvePointer(doc: Json, ref: string): unknown {
  if (!ref.startsWith("#/")) throw new Error(`upstream contract: only local $refs are supported (${ref})`);
  let node: unknown = doc;
  for (const raw of ref.slice(2).split("/")) {
    const part = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (!isObject(node) || !(part in node)) throw new Error(`upstream contract: unresolved $ref ${ref}`);
    node = node[part];
  }
  return node;
}

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
