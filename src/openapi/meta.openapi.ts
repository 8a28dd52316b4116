// OpenAPI operations of the routes app.ts defines itself: the health check and the admin document.
import * as z from "zod";
import type { OperationSpec } from "./registry";

export const metaOperations: OperationSpec[] = [
  {
    api: "tenant",
    method: "get",
    path: "/healthz",
    operationId: "health",
    summary: "Liveness",
    tag: "Meta",
    security: "none",
    responses: { 200: { description: "Up.", schema: z.object({ ok: z.literal(true) }) } },
    errors: [],
  },
  {
    api: "admin",
    method: "get",
    path: "/admin/openapi.json",
    operationId: "adminOpenApi",
    summary: "This document",
    tag: "Meta",
    security: "admin",
    responses: {
      200: {
        description: "The admin API's OpenAPI 3.1 document.",
        schema: z.looseObject({ openapi: z.string() }),
      },
    },
    errors: [],
  },
];
