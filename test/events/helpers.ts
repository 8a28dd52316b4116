// Opening a task's event stream through the real app and reading it as a client does: incrementally, one
// event (or comment) at a time, with a deadline on each read so a test that waits for an event that never
// comes fails instead of hanging. Streams run with the env given (EVENTS_POLL_MS and EVENTS_IDLE_MS per
// test) and are swept for the upstream key and held to the OpenAPI document, as `gw()` does.
import { env } from "cloudflare:workers";
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { expect } from "vitest";
import { app } from "../../src/app";
import type { Env } from "../../src/env";
import { GATEWAY } from "../helpers/gateway";
import { checkAgainstOpenApi } from "../helpers/openapi";
import { sweepResponse } from "../helpers/sweep";

export interface SseEvent {
  event?: string;
  id?: string;
  data?: string;
  /** A comment line (`: …`), without the colon. */
  comment?: string;
}

export class EventReader {
  private readonly reader: ReadableStreamDefaultReader<Uint8Array>;
  private readonly decoder = new TextDecoder();
  private buffer = "";
  private ended = false;
  /** A read a timed-out `next()` left behind: the next call takes its chunk. */
  private pending: Promise<ReadableStreamReadResult<Uint8Array>> | null = null;

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader();
  }

  /** The next event or comment; null once the stream has closed. Throws after `timeoutMs`. */
  async next(timeoutMs = 5_000): Promise<SseEvent | null> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.buffer.indexOf("\n\n");
      if (at >= 0) {
        const block = this.buffer.slice(0, at);
        this.buffer = this.buffer.slice(at + 2);
        return parseBlock(block);
      }
      if (this.ended) {
        expect(this.buffer, "a partial event at the end of the stream").toBe("");
        return null;
      }
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no event within ${timeoutMs} ms`);
      let timer: ReturnType<typeof setTimeout> | null = null;
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no event within ${timeoutMs} ms`)), left);
      });
      try {
        this.pending ??= this.reader.read();
        const { done, value } = await Promise.race([this.pending, timeout]);
        this.pending = null;
        if (done) this.ended = true;
        else this.buffer += this.decoder.decode(value, { stream: true });
      } finally {
        if (timer !== null) clearTimeout(timer);
      }
    }
  }

  /** The next event, skipping comments (keep-alives). */
  async nextEvent(timeoutMs = 5_000): Promise<SseEvent | null> {
    for (;;) {
      const e = await this.next(timeoutMs);
      if (e === null || e.comment === undefined) return e;
    }
  }

  /** Everything up to the end of the stream. */
  async rest(timeoutMs = 5_000): Promise<SseEvent[]> {
    const out: SseEvent[] = [];
    for (let e = await this.next(timeoutMs); e !== null; e = await this.next(timeoutMs)) out.push(e);
    return out;
  }

  /** The client goes away. */
  async cancel(): Promise<void> {
    await this.reader.cancel().catch(() => {});
  }
}

function parseBlock(block: string): SseEvent {
  const out: SseEvent = {};
  for (const line of block.split("\n")) {
    if (line.startsWith(":")) out.comment = line.slice(1).trim();
    else {
      const colon = line.indexOf(":");
      const field = line.slice(0, colon) as "event" | "id" | "data";
      out[field] = line.slice(colon + 1).replace(/^ /, "");
    }
  }
  return out;
}

export interface OpenStream {
  res: Response;
  /** The body, read as events (made on first use, so a refused answer's body can be read as JSON). */
  readonly events: EventReader;
  /** Waits for the request's waitUntil work (the slot given back after the stream closed). */
  settled(): Promise<void>;
}

/** An env with the events settings of a test (each object parses its config once). */
export function eventsEnv(vars: { EVENTS_POLL_MS?: string; EVENTS_IDLE_MS?: string } = {}): Env {
  return { ...(env as Env), EVENTS_POLL_MS: "600000", ...vars } as Env;
}

export async function openEvents(
  token: string,
  taskId: string,
  options: { env?: Env; lastEventId?: string } = {},
): Promise<OpenStream> {
  const url = `${GATEWAY}/v1/tasks/${taskId}/events`;
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (options.lastEventId !== undefined) headers["last-event-id"] = options.lastEventId;
  const ctx = createExecutionContext();
  const res = await sweepResponse(
    await app.fetch(new Request(url, { headers }), options.env ?? eventsEnv(), ctx),
  );
  await checkAgainstOpenApi("GET", url, res);
  let reader: EventReader | null = null;
  return {
    res,
    get events() {
      return (reader ??= new EventReader(
        res.body ?? new ReadableStream<Uint8Array>({ start: (c) => c.close() }),
      ));
    },
    settled: () => waitOnExecutionContext(ctx),
  };
}

/** The event's data, parsed. */
export const dataOf = (e: SseEvent | null) => JSON.parse(e?.data ?? "null") as Record<string, unknown>;
