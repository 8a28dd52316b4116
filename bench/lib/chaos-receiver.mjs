// The chaos run's webhook receiver (scripts/chaos.mjs): an unreliable tenant endpoint on 127.0.0.1 that
// verifies every delivery with the `standardwebhooks` library, records it, and answers 500 to a share of
// them on purpose — never more than `maxFailsPerEvent` times for one webhook-id, so every event can be
// accepted within the gateway's retry schedule and an event that never arrives is a loss, not bad luck.
import { createServer } from "node:http";
import { Webhook } from "standardwebhooks";

/**
 * Starts the receiver on `port`. `deliveries` holds one entry per request: webhook-id, the task id and
 * status from the verified body, the raw body, the path and the status answered (`invalid` when the
 * signature did not verify). Resolves once it listens.
 */
export async function startReceiver({ port, secret, failRate, maxFailsPerEvent, random = Math.random }) {
  const webhook = new Webhook(secret);
  const deliveries = [];
  const failsOf = new Map();
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const id = String(req.headers["webhook-id"] ?? "");
      const entry = { id, path: req.url, at: Date.now(), body, taskId: null, status: null, answered: 0 };
      deliveries.push(entry);
      let event;
      try {
        event = webhook.verify(body, req.headers);
      } catch {
        entry.answered = 400;
        entry.invalid = true;
        res.writeHead(400).end("bad signature");
        return;
      }
      entry.taskId = event.id;
      entry.status = event.status;
      const fails = failsOf.get(id) ?? 0;
      if (fails < maxFailsPerEvent && random() < failRate) {
        failsOf.set(id, fails + 1);
        entry.answered = 500;
        res.writeHead(500).end("unreliable on purpose");
        return;
      }
      entry.answered = 204;
      res.writeHead(204).end();
    });
  });
  await new Promise((resolve, reject) => {
    server.once("error", reject);
    server.listen(port, "127.0.0.1", resolve);
  });
  return {
    url: `http://127.0.0.1:${port}`,
    deliveries,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}
