// Waits for a task's end over its event stream (GET /v1/tasks/{task_id}/events, docs/events.md), with fetch:
// the browser's EventSource cannot send an Authorization header, and a token never goes in a URL. A small
// Server-Sent Events reader: it parses the stream as it arrives, remembers the last event id, and after a
// drop, an idle close, a 429 or a 5xx it reconnects with Last-Event-ID, so it is sent only what it has not
// seen. It runs in browsers, Node 18+ and Workers. Copy this file.
import type { operations } from "../../openapi/tenant";

/** The task as GET /v1/tasks/{task_id} answers it; the final event carries exactly that. */
export type Task = operations["getTask"]["responses"][200]["content"]["application/json"];
export type TaskProgress = { status: "pending" | "processing"; progress: number };

export interface FollowOptions {
  /** The gateway, e.g. https://video.example.com (no trailing slash). */
  baseUrl: string;
  /** The user's tenant JWT, minted by your backend; asked again on each reconnect. */
  token: () => string | Promise<string>;
  /** Called for each `progress` event. */
  onProgress?: (progress: TaskProgress) => void;
  /** Stops following (the promise rejects with the signal's reason). */
  signal?: AbortSignal;
  /** Wait before reconnecting when the gateway names none (Retry-After), in ms. */
  retryMs?: number;
  /** Failed connections in a row (network errors, 429, 5xx) before giving up. */
  maxFailures?: number;
  fetch?: (request: Request) => Promise<Response>;
  sleep?: (ms: number) => Promise<void>;
}

interface SseEvent {
  event: string;
  id: string | null;
  data: string;
}

/** Resolves with the ended task (completed, failed or cancelled); rejects on a 4xx such as 404. */
export async function followTask(taskId: string, options: FollowOptions): Promise<Task> {
  const send = options.fetch ?? ((request: Request) => fetch(request));
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const url = `${options.baseUrl}/v1/tasks/${encodeURIComponent(taskId)}/events`;
  let lastId: string | null = null;
  let failures = 0;
  for (;;) {
    options.signal?.throwIfAborted();
    const headers = new Headers({ authorization: `Bearer ${await options.token()}` });
    if (lastId !== null) headers.set("last-event-id", lastId);
    let wait = options.retryMs ?? 2_000;
    try {
      const res = await send(new Request(url, { headers, signal: options.signal ?? null }));
      if (res.ok && res.body) {
        failures = 0;
        for await (const e of readEvents(res.body)) {
          if (e.id !== null) lastId = e.id;
          if (e.event === "progress") options.onProgress?.(JSON.parse(e.data) as TaskProgress);
          else if (["completed", "failed", "cancelled"].includes(e.event)) return JSON.parse(e.data) as Task;
        }
        // Closed without the end (idle, or open too long): reconnect at once, from the last id.
        continue;
      }
      const body = (await res.json().catch(() => null)) as { error?: { code?: string } } | null;
      if (res.status !== 429 && res.status < 500)
        throw new Error(`task ${taskId}: ${res.status} ${body?.error?.code ?? "error"}`);
      const after = Number(res.headers.get("retry-after"));
      if (after > 0) wait = after * 1_000;
    } catch (err) {
      if (options.signal?.aborted || (err instanceof Error && err.message.startsWith(`task ${taskId}:`)))
        throw err;
      // A network error: retried like a 5xx.
    }
    if (++failures >= (options.maxFailures ?? 10))
      throw new Error(`task ${taskId}: no stream after ${failures} attempts`);
    await sleep(wait);
  }
}

/** The events of a text/event-stream body as they arrive (comments skipped). */
export async function* readEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<SseEvent> {
  const reader = body.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      buffer += value.replace(/\r\n?/g, "\n");
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        const e: SseEvent = { event: "message", id: null, data: "" };
        const data: string[] = [];
        for (const line of block.split("\n")) {
          if (line === "" || line.startsWith(":")) continue;
          const colon = line.indexOf(":");
          const field = colon < 0 ? line : line.slice(0, colon);
          const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
          if (field === "event") e.event = value;
          else if (field === "id") e.id = value;
          else if (field === "data") data.push(value);
        }
        e.data = data.join("\n");
        if (data.length > 0) yield e;
      }
    }
  } finally {
    await reader.cancel().catch(() => {});
  }
}
