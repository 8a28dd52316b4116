// The per-event CPU of the callback relay: checking the signed token in an upstream callback URL, and
// signing a tenant webhook (Standard Webhooks, HMAC-SHA256) with one secret and, during a rotation, two.
import { expect, test } from "vitest";
import { signOne, webhookHeaders } from "../src/callbacks/signature";
import { signCallbackToken, verifyCallbackToken } from "../src/callbacks/token";
import { compareOps } from "./micro";

const SECRET = "signing-secret-for-bench-0123456789abcdef";
const WHSEC = "whsec_ZGVtby13ZWJob29rLXNlY3JldC0wMTIzNDU2Nzg5YWI=";
const WHSEC_OLD = "whsec_b2xkLXdlYmhvb2stc2VjcmV0LTAxMjM0NTY3ODlhYmM=";
const EVENT = JSON.stringify({
  type: "task.completed",
  timestamp: "2026-11-24T17:00:00.000Z",
  data: {
    id: "task-unified-1795539268-abcdefghijklmnopqrstuvwxyz234",
    object: "video.generation.task",
    status: "completed",
    progress: 100,
    results: ["https://media.example/task.mp4"],
  },
});

test("callback relay: token check and webhook signing", async ({ bench }) => {
  const token = await signCallbackToken(SECRET, {
    tenantId: "acme",
    incarnation: "acmelife0",
    taskId: "0123456789abcdef0123",
  });
  expect(await verifyCallbackToken(SECRET, token)).toEqual({
    tenantId: "acme",
    incarnation: "acmelife0",
    taskId: "0123456789abcdef0123",
  });
  expect(await signOne(WHSEC, "msg_1", 1795539268, EVENT)).toMatch(/^v1,/);
  const now = 1795539268;

  await compareOps(bench, "Callback relay", [
    { name: "verify callback URL token (HMAC)", op: () => verifyCallbackToken(SECRET, token) },
    { name: "sign webhook, one secret", op: () => webhookHeaders([WHSEC], "msg_1", now, EVENT) },
    {
      name: "sign webhook, two secrets (rotation)",
      op: () => webhookHeaders([WHSEC, WHSEC_OLD], "msg_1", now, EVENT),
    },
  ]);
});
