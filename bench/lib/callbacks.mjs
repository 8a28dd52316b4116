// Real callback requests for the bench's callback-ingress targets: a task is created through the gateway,
// and the simulator's copy of it gives the exact callback URL (signed token and all) the upstream would call
// and the task-detail body it would send. Nothing here forges a token.
import { setTimeout as sleep } from "node:timers/promises";

const TERMINAL = new Set(["completed", "failed", "cancelled"]);

/**
 * Creates one task through the gateway on an empty simulator and returns the callback the simulator would
 * make for it: `{ path, body, gatewayId }` (`body`: the simulator's task detail as it stands now).
 * @param d `{ gatewayUrl, simUrl, simKey, create: { path, headers, body } }`
 */
export async function callbackFor(d) {
  await send("POST", `${d.simUrl}/__sim/reset`);
  const task = await send("POST", d.gatewayUrl + d.create.path, d.create.headers, d.create.body);
  const simTasks = await send("GET", `${d.simUrl}/__sim/tasks`);
  if (simTasks.length !== 1) throw new Error(`expected one simulator task, found ${simTasks.length}`);
  const url = new URL(simTasks[0].request.callback_url);
  if (url.origin !== new URL(d.gatewayUrl).origin)
    throw new Error(`callback_url ${url.origin} is not the gateway's (${d.gatewayUrl})`);
  const detail = await send("GET", `${d.simUrl}/v1/tasks/${simTasks[0].id}`, bearer(d.simKey));
  return { path: url.pathname, body: JSON.stringify(detail), gatewayId: task.id };
}

/**
 * Waits until the gateway reports task `id` ended (the simulator's own callback or a poll records it), so
 * a callback for it takes the "already ended" path. Rejects after `timeoutMs`.
 */
export async function waitEnded(gatewayUrl, headers, id, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const task = await send("GET", `${gatewayUrl}/v1/tasks/${id}`, headers);
    if (TERMINAL.has(task.status)) return task;
    if (Date.now() > deadline) throw new Error(`task ${id} still ${task.status} after ${timeoutMs} ms`);
    await sleep(250);
  }
}

const bearer = (key) => ({ authorization: `Bearer ${key}` });

async function send(method, url, headers = {}, body = undefined) {
  const r = await fetch(url, { method, headers, body });
  const text = await r.text();
  if (!r.ok) throw new Error(`${method} ${url} → ${r.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : {};
}
