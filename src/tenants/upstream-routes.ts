// GET /admin/upstream: the operator's own EvoLink account as the Registry keeps it — the last read of the
// balance, the open reservations across tenants, the alert's state (src/registry-object/balance.ts).
// `?refresh=1` reads the balance now; otherwise the call only makes sure the alarm's check is scheduled.
import { Hono } from "hono";
import type { HttpEnv } from "../http/context";
import { query } from "../http/validate";
import { UpstreamStatusQuery } from "./query";
import { registry } from "./registry-client";

export const upstreamAdminRoutes = new Hono<HttpEnv>();

upstreamAdminRoutes.get("/upstream", query(UpstreamStatusQuery), async (c) => {
  const { refresh } = c.req.valid("query");
  return c.json(await registry(c.env).upstreamStatus(refresh));
});
