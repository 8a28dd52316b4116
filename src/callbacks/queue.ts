// The Worker's queue entry point: dispatches a batch to the consumer of the queue it came from. A batch
// from a queue nobody consumes is retried, never acked, so a wiring mistake cannot drop events.
import { loadConfig } from "../config/env";
import { WEBHOOK_DEAD_LETTER_QUEUE, WEBHOOK_QUEUE } from "../config/constants";
import type { Env } from "../env";
import { configLogger } from "../http/log";
import { deliverBatch } from "./consumer";
import { deadLetterBatch } from "./dead-letter";

export async function handleQueue(batch: MessageBatch<unknown>, env: Env): Promise<void> {
  let config;
  try {
    config = loadConfig(env);
  } catch (err) {
    // The operator must fix a setting; until then every message waits.
    console.error(JSON.stringify({ level: "error", event: "queue_misconfigured", error: String(err) }));
    batch.retryAll({ delaySeconds: 60 });
    return;
  }
  const log = configLogger(config, { queue: batch.queue });
  switch (batch.queue) {
    case WEBHOOK_QUEUE:
      return deliverBatch(batch, env, { config, log, random: Math.random });
    case WEBHOOK_DEAD_LETTER_QUEUE:
      return deadLetterBatch(batch, env, log);
    default:
      log.error("queue_unknown", { messages: batch.messages.length });
      batch.retryAll({ delaySeconds: 60 });
  }
}
