// The middleware order and the route table, top to bottom as a request meets them.
import { Hono } from "hono";
import { tenantAuth } from "./auth/middleware";
import { redeliveryRoutes, webhookAdminRoutes } from "./callbacks/admin-routes";
import { callbackRoutes } from "./callbacks/ingress";
import type { HttpEnv } from "./http/context";
import { notFound, onError, requestContext } from "./http/middleware";
import { readLimit } from "./http/read-limit";
import { monthUsageRoutes, usageRoutes } from "./usage/routes";
import { creditsRoutes } from "./usage/credits-routes";
import { taskRoutes } from "./tasks/routes";
import { taskBatchRoutes } from "./tasks/batch";
import { eventRoutes } from "./events/routes";
import { adminTaskRoutes, taskListRoutes } from "./tasks/list-routes";
import { modelRoutes } from "./generations/catalog";
import { generationRoutes } from "./generations/routes";
import { adminOpenApi } from "./openapi/serve";
import { ADMIN_TENANT_PATH, adminAuth, adminTenant } from "./tenants/admin";
import { upstreamAdminRoutes } from "./tenants/upstream-routes";
import { tenantRoutes } from "./tenants/routes";
import { findTenantByIssuer } from "./tenants/lookup";
import { tenantStatusRoutes } from "./tenants/status-routes";
import { dailyUsageRoutes } from "./usage/daily-routes";
import { filesRoutes, publicFileRoutes } from "./files/routes";
import { resultRoutes } from "./results/routes";
import { portalAdminRoutes } from "./portal/admin-routes";
import { portalApiRoutes } from "./portal/api-routes";
import { portalPageRoutes } from "./portal/page";

export const app = new Hono<HttpEnv>();

app.use("*", requestContext());

app.get("/healthz", (c) => c.json({ ok: true }));

app.use("/admin/*", adminAuth());
// Every /admin/tenants/{tenant_id}/… sub-resource: the id checked and the tenant read once, here.
app.use(ADMIN_TENANT_PATH, adminTenant());
app.route("/admin/tenants", tenantRoutes);
app.route("/admin/tenants", monthUsageRoutes);
app.route("/admin", webhookAdminRoutes);
app.route("/admin", redeliveryRoutes);
app.route("/admin/tenants", adminTaskRoutes);
app.get("/admin/openapi.json", adminOpenApi);
// The operator's console (public/console, static assets) reads these besides the routes above.
app.route("/admin/tenants", dailyUsageRoutes);
app.route("/admin/tenants", tenantStatusRoutes);
app.route("/admin", upstreamAdminRoutes);
app.route("/admin/tenants", portalAdminRoutes);

// The upstream's task callbacks: no tenant token, the URL's own signed token is the credential.
app.route("/callbacks", callbackRoutes);

// EvoLink's GET /v1/credits: ahead of the /v1/* middleware, since it checks the token and counts the read
// itself, to answer their refusals in EvoLink's legacy error body too (src/usage/credits-routes.ts).
app.route("/v1/credits", creditsRoutes);

// Every read (GET) is counted for its user and its tenant before it runs (docs/quotas.md, "Read limits");
// a task batch counts one read per task itself (src/tasks/batch.ts).
app.use("/v1/*", tenantAuth({ findTenantByIssuer }), readLimit());
app.route("/v1", generationRoutes);
app.route("/v1", taskRoutes);
app.route("/v1", taskBatchRoutes);
app.route("/v1", eventRoutes);
app.route("/v1", usageRoutes);
app.route("/v1", taskListRoutes);
app.route("/v1", modelRoutes);

// EvoLink's files API with the tenant's JWT (its own auth and error envelope), and the signed, expiring file
// URLs the upstream fetches uploaded videos from (R2 backend; the token is the only credential).
app.route("/api/v1/files", filesRoutes);
app.route("/files", publicFileRoutes);
// Kept results: the signed URLs an ended task's `results` carry (the token is the only credential).
app.route("/results", resultRoutes);

// The tenant portal (docs/portal.md): its page, served with the tenant's own frame-ancestors, and its API,
// where a portal token (not a tenant JWT) is the credential.
app.route("/portal/api", portalApiRoutes);
app.route("/portal", portalPageRoutes);

app.notFound(notFound);
app.onError(onError);
