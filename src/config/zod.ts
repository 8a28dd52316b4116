// The zod the Worker validates with: `zod/mini`, the functional API over the same core as classic zod.
// Classic schemas each carry `.toJSONSchema()` and a table of methods, which keep zod's JSON Schema
// converter and every schema type in the bundle; mini's functions are dropped when unused (zod: 103 KiB
// raw of the bundle -> 38, docs/performance.md). Only the build (the OpenAPI documents, `*.openapi.ts`)
// uses classic zod, and it composes these schemas as they are (both are zod core types).
// Classic sets English messages on its first schema; mini sets none, so every message would read
// "Invalid input". Importing zod through this module sets them before any schema parses.
import { config } from "zod/mini";
import { en } from "zod/locales";

config(en());

export * from "zod/mini";
