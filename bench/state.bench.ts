// What one call into a tenant's Durable Object costs on the local runtime, for reading the macro benchmark:
// a read-only RPC (one indexed SELECT) from the Worker to the TenantState object. Writes add a durable
// commit before the answer is released; the request-path benchmark (`npm run bench`) includes those.
import { env } from "cloudflare:workers";
import { expect, test } from "vitest";
import { tenantObject } from "../src/state/client";

const TENANT = { id: "bench-state", incarnation: "benchlife0" };
import { compareOps } from "./micro";

test("tenant Durable Object round trip", async ({ bench }) => {
  const state = tenantObject(env, TENANT);
  expect(await state.getTask("task-unified-1-nothing")).toBeNull();
  await compareOps(bench, "Durable Object", [
    { name: "getTask RPC (read), stub reused", op: () => state.getTask("task-unified-1-nothing") },
    {
      name: "getTask RPC (read), stub per call as per request",
      op: () => tenantObject(env, TENANT).getTask("task-unified-1-nothing"),
    },
  ]);
});
