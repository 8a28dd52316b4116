#!/usr/bin/env node
// A local webhook receiver for development: verifies each delivery with the `standardwebhooks` library
// (the same check a tenant's receiver makes) and prints the event. `npm start` runs it for the demo tenant;
// alone: `node scripts/receiver.mjs [--port 8789] [--secret whsec_…] [--fail 2]`
// (`--fail n` answers the first n deliveries with 503, to watch the gateway retry with the same webhook-id).
import { createServer } from "node:http";
import { parseArgs } from "node:util";
import { Webhook } from "standardwebhooks";
import { DEMO_WEBHOOK_SECRET, RECEIVER_PORT } from "./demo.mjs";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: String(RECEIVER_PORT) },
    secret: { type: "string", default: process.env.WEBHOOK_SECRET ?? DEMO_WEBHOOK_SECRET },
    fail: { type: "string", default: process.env.RECEIVER_FAIL ?? "0" },
  },
});
const webhook = new Webhook(values.secret);
let failuresLeft = Number(values.fail);
const seen = new Set();

const server = createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    const body = Buffer.concat(chunks).toString("utf8");
    const id = req.headers["webhook-id"];
    let event;
    try {
      event = webhook.verify(body, req.headers);
    } catch (err) {
      console.log(`[receiver] REJECTED ${req.method} ${req.url}: ${err.message}`);
      res.writeHead(400).end("bad signature");
      return;
    }
    if (failuresLeft > 0) {
      failuresLeft--;
      console.log(`[receiver] verified ${id}, answering 503 on purpose (${failuresLeft} more to fail)`);
      res.writeHead(503).end("try again");
      return;
    }
    const dup = seen.has(id) ? " (duplicate webhook-id: a receiver would skip it)" : "";
    seen.add(id);
    console.log(`[receiver] verified ${id}${dup}: task ${event.id} ${event.status}`);
    console.log(JSON.stringify(event, null, 2));
    res.writeHead(204).end();
  });
});
server.listen(Number(values.port), "127.0.0.1", () =>
  console.log(`[receiver] listening on http://127.0.0.1:${values.port}/webhook`),
);
for (const sig of ["SIGINT", "SIGTERM"]) process.on(sig, () => server.close(() => process.exit(0)));
