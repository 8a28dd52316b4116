// The middleware order and the route table, top to bottom as a request meets them.
import { Hono } from "hono";
import { tenantAuth } from "./auth/middleware";
import type { AppEnv } from "./env";
import { notFound, onError, requestContext } from "./http/middleware";
import { taskRoutes } from "./tasks/routes";
import { adminAuth, tenantRoutes } from "./tenants/routes";
import { findTenantByIssuer } from "./tenants/store";

export const app = new Hono<AppEnv>();

app.use("*", requestContext());

app.get("/healthz", (c) => c.json({ ok: true }));

app.use("/admin/*", adminAuth());
app.route("/admin/tenants", tenantRoutes);

app.use("/v1/*", tenantAuth({ findTenantByIssuer }));
app.route("/v1", taskRoutes);

app.notFound(notFound);
app.onError(onError);
