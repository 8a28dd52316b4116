// POST /callbacks/upstream/{token}: the upstream reports that a task ended. The token (signed by the gateway
// when it created the task) names tenant, incarnation and task; anything else — including a callback for a
// deleted tenant's task — is a 404 with nothing changed. The body is
// only a hint, since the upstream does not sign callbacks: the task's state is confirmed with the upstream
// before it is recorded, and recording its end writes the webhook event in the same step (see outbox.ts).
import { Hono } from "hono";
import { CALLBACK_CONFIRM_TIMEOUT_MS, CALLBACK_MAX_BODY_BYTES } from "../config/constants";
import type { HttpEnv } from "../http/context";
import { ApiError } from "../http/errors";
import { tenantObject } from "../state/client";
import { getTenant } from "../tenants/lookup";
import { finalView, keepFinal } from "../tasks/answer";
import { getUpstreamTask } from "../upstream/client";
import { readBytesCapped } from "../util/stream";
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
  const tenant = await getTenant(c.env, claims.tenantId);
  const current = tenant?.incarnation === claims.incarnation;
  const state = tenantObject(c.env, { id: claims.tenantId, incarnation: claims.incarnation });
  const record = current ? await state.getTask(claims.taskId) : null;
  if (!record || record.state === "aborted") {
    log.warn("callback_rejected", { ...fields, reason: current ? "task_unknown" : "tenant_unknown" });
    throw unknownCallback();
  }
  if (record.endedAt !== null) {
    // Already ended (an upstream retry, or a poll or sweep got there first): one event per end, nothing to do.
    log.info("callback_duplicate", { ...fields, hinted_status: hint });
    return c.json({ received: true });
  }
  if (!record.upstreamId) {
    // The upstream called back before its create answer reached us: ask it to retry (1/2/4 s later).
    throw new ApiError("upstream_unavailable", "The task is still being created; retry shortly", {
      headers: { "Retry-After": "1" },
    });
  }

  const upstream = await getUpstreamTask(
    {
      config: {
        ...config,
        upstreamTimeoutMs: Math.min(config.upstreamTimeoutMs, CALLBACK_CONFIRM_TIMEOUT_MS),
      },
      log,
      requestId: c.get("requestId"),
    },
    record.upstreamId,
  );
  const observed = await state.observe(record.id, upstream, Date.now());
  // The end, presented as GET answers it, goes into this location's cache at once: the task's event
  // streams here read that cache every second (src/events), so they see the end without another poll.
  if (tenant && record.publicId) {
    const scope = { env: c.env, config, log, tenant };
    const final = await finalView(scope, record.publicId, observed?.record ?? null);
    if (final) c.executionCtx.waitUntil(keepFinal(scope, record.publicId, final));
  }
  log.info("callback_received", {
    ...fields,
    hinted_status: hint,
    confirmed_status: upstream.status,
    first_end: observed?.firstEnd ?? false,
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
