// POST /callbacks/upstream/{token}: the upstream reports that a task ended. The token (signed by the gateway
// when it created the task) names tenant, incarnation and task; anything else — including a callback for a
// deleted tenant's task — is a 404 with nothing changed. The body is
// only a hint, since the upstream does not sign callbacks: the task's state is confirmed with the upstream
// before it is recorded, and recording its end writes the webhook event in the same step (see outbox.ts).
import { Hono } from "hono";
import { CALLBACK_MAX_BODY_BYTES } from "../config/constants";
import type { HttpEnv } from "../http/context";
import { ApiError, apiErrorFrom } from "../http/errors";
import { tenantObject } from "../state/client";
import { isCurrentIncarnation } from "../tenants/lookup";
import { finalView, keepFinal } from "../tasks/answer";
import { readBytesCapped } from "../util/stream";
import type { CallbackReport } from "./report";
import { verifyCallbackToken } from "./token";

const unknownCallback = () => new ApiError("not_found", "No such callback");

export const callbackRoutes = new Hono<HttpEnv>();

callbackRoutes.post("/upstream/:token", async (c) => {
  const config = c.get("config");
  const log = c.get("log");
  const claims = await verifyCallbackToken(config.signingSecret, c.req.param("token"));
  if (!claims) {
    log.warn("callback_rejected", { reason: "bad_token" });
    throw unknownCallback();
  }
  const fields = { tenant_id: claims.tenantId, task_id: claims.taskId };
  const hint = await readHint(c.req.raw);
  // Whether the tenant still lives this life: cached per isolate like the tenant records, so no KV read
  // once warm (a deleted tenant's object holds no tasks either way).
  const tenant = { id: claims.tenantId, incarnation: claims.incarnation };
  if (!(await isCurrentIncarnation(c.env, tenant))) {
    log.warn("callback_rejected", { ...fields, reason: "tenant_unknown" });
    throw unknownCallback();
  }
  // One object call: it reads the task, and confirms a live one with the upstream before recording it.
  // (Cast: RPC's types drop a union member whose fields hold `unknown`, as ErrorData's details do.)
  const report = (await tenantObject(c.env, tenant).callbackReport(
    claims.taskId,
    c.get("requestId"),
  )) as CallbackReport;
  switch (report.kind) {
    case "unknown":
      log.warn("callback_rejected", { ...fields, reason: "task_unknown" });
      throw unknownCallback();
    case "duplicate":
      log.info("callback_duplicate", { ...fields, hinted_status: hint });
      return c.json({ received: true });
    case "creating":
      // The upstream called back before its create answer reached us: ask it to retry (1/2/4 s later).
      throw new ApiError("upstream_unavailable", "The task is still being created; retry shortly", {
        headers: { "Retry-After": "1" },
      });
    case "failed":
      throw apiErrorFrom(report.error);
  }
  // The end, presented as GET answers it, goes into this location's cache at once: the task's event
  // streams here read that cache every second (src/events), so they see the end without another poll.
  if (report.record?.publicId) {
    const scope = { env: c.env, config, log, tenant };
    const final = await finalView(scope, report.record.publicId, report.record);
    if (final) c.executionCtx.waitUntil(keepFinal(scope, report.record.publicId, final));
  }
  log.info("callback_received", {
    ...fields,
    hinted_status: hint,
    confirmed_status: report.status,
    first_end: report.firstEnd,
  });
  return c.json({ received: true });
});

/** The status the body claims, for the log only (bounded read; anything unreadable is just "unknown"). */
async function readHint(request: Request): Promise<string> {
  try {
    const bytes = await readBytesCapped(request.body, CALLBACK_MAX_BODY_BYTES);
    if (!bytes) return "oversized";
    const body = JSON.parse(new TextDecoder().decode(bytes)) as { status?: unknown };
    return typeof body.status === "string" ? body.status.slice(0, 20) : "unknown";
  } catch {
    return "unknown";
  }
}
