// The one place a request's query string and path parameters are checked: hono's validator with the zod
// schema that the operation's OpenAPI entry documents, so the route and the document cannot disagree. A
// failure is one `400 invalid_request` naming the field (`zodError`, also used for JSON bodies).
import type { ValidationTargets } from "hono";
import { validator } from "hono/validator";
import * as z from "../config/zod";
import { ApiError } from "./errors";

/** Renders the first zod issue as a field error. */
export function zodError(error: z.core.$ZodError): ApiError {
  const issue = error.issues[0]!;
  const param = issue.path
    .map((p, i) => (typeof p === "number" ? `[${p}]` : i ? `.${String(p)}` : String(p)))
    .join("");
  const message =
    issue.code === "unrecognized_keys"
      ? `Unknown field${issue.keys.length > 1 ? "s" : ""}: ${issue.keys.join(", ")}`
      : `${param || "body"}: ${issue.message}`;
  const keyParam =
    issue.code === "unrecognized_keys" ? [param, issue.keys[0]].filter(Boolean).join(".") : param;
  return new ApiError("invalid_request", message, keyParam ? { param: keyParam } : {});
}

/** `schema.parse(value)`, or the 400 that names the field at fault. */
export function parseWith<S extends z.ZodMiniType>(schema: S, value: unknown): z.output<S> {
  const parsed = schema.safeParse(value);
  if (!parsed.success) throw zodError(parsed.error);
  return parsed.data;
}

function on<T extends keyof ValidationTargets>(target: T) {
  return <S extends z.ZodMiniType>(schema: S) =>
    validator(target, (value): z.output<S> => parseWith(schema, value));
}

/** Validates the query string: `c.req.valid("query")` is the schema's output. */
export const query = on("query");
/** Validates the path parameters: `c.req.valid("param")` is the schema's output. */
export const param = on("param");

/**
 * A whole number in a query string: digits only (no sign, exponent or spaces), within [min, max]. The
 * OpenAPI documents show it as an integer with its bounds.
 */
export function integer(min: number, max: number) {
  const message = `must be an integer between ${min} and ${max}`;
  const bounded = () => z.int(message).check(z.gte(min, message), z.lte(max, message));
  const digits = (v: unknown) => (typeof v === "string" && /^\d{1,15}$/.test(v) ? Number(v) : v);
  return {
    default: (value: number) => z.pipe(z.transform(digits), z._default(bounded(), value)),
    optional: () => z.pipe(z.transform(digits), z.optional(bounded())),
  };
}

/** A query value where an empty string means absent (`?cursor=` is no cursor). */
export function optionalText<S extends z.ZodMiniType<string>>(schema: S) {
  return z.pipe(
    z.transform((v: unknown) => (v === "" ? undefined : v)),
    z.optional(schema),
  );
}
