// The zod the Worker validates with: `zod/mini`, the functional API over the same core as classic zod.
// Classic schemas each carry `.toJSONSchema()`, which keeps zod's whole JSON Schema converter in the bundle
// (~35 KiB raw); mini's functions are dropped when unused. Only the build (the OpenAPI documents, `*.openapi.ts`)
// uses classic zod, and it composes these schemas as they are (both are zod core types).
// Classic sets English messages on its first schema; mini sets none, so every message would read
// "Invalid input". Importing zod through this module sets them before any schema parses.
import { config } from "zod/mini";
import { en } from "zod/locales";

config(en());

export * from "zod/mini";
