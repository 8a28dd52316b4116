// The middleware order and the route table, top to bottom as a request meets them.
import { Hono } from "hono";
import { tenantAuth } from "./auth/middleware";
import { webhookAdminRoutes } from "./callbacks/admin-routes";
import { callbackRoutes } from "./callbacks/ingress";
import type { AppEnv } from "./env";
import { notFound, onError, requestContext } from "./http/middleware";
import { ledgerRoutes, usageRoutes } from "./quota/routes";
import { taskRoutes } from "./tasks/routes";
import { adminAuth, tenantRoutes } from "./tenants/routes";
import { findTenantByIssuer } from "./tenants/store";
import { filesRoutes, publicFileRoutes } from "./files/routes";

export const app = new Hono<AppEnv>();

app.use("*", requestContext());

app.get("/healthz", (c) => c.json({ ok: true }));

app.use("/admin/*", adminAuth());
app.route("/admin/tenants", tenantRoutes);
app.route("/admin/tenants", ledgerRoutes);
app.route("/admin", webhookAdminRoutes);

// The upstream's task callbacks: no tenant token, the URL's own signed token is the credential.
app.route("/callbacks", callbackRoutes);

app.use("/v1/*", tenantAuth({ findTenantByIssuer }));
app.route("/v1", taskRoutes);
app.route("/v1", usageRoutes);

// EvoLink's files API with the tenant's JWT (its own auth and error envelope), and the signed, expiring file
// URLs the upstream fetches uploaded videos from (R2 backend; the token is the only credential).
app.route("/api/v1/files", filesRoutes);
app.route("/files", publicFileRoutes);

app.notFound(notFound);
app.onError(onError);
