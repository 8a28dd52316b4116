// zod → JSON Schema 2020-12 (OpenAPI 3.1's dialect) with zod 4's own converter, as the documents embed it.
import * as z from "zod";

/** `input`: what a client sends (defaults optional); `output`: what the gateway answers (exact fields). */
export function jsonSchema(schema: z.core.$ZodType, io: "input" | "output"): Record<string, unknown> {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" }) as Record<
    string,
    unknown
  >;
  return rest;
}
