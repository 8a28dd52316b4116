// The wire format of a task's event stream (text/event-stream, the Server-Sent Events format of the HTML
// standard) and its event ids. An id is the task's state as a number that only grows as the task moves on —
// its status's rank, then its progress — so a client that reconnects with Last-Event-ID is sent only what
// comes after what it saw, by whichever Worker it reaches, with nothing to remember between connections.
// The final event has the largest id of all.
import type { TaskStatus } from "../upstream/schema";

/** A running task's state, as its `progress` events carry it. */
export interface LiveState {
  status: Exclude<TaskStatus, "completed" | "failed" | "cancelled">;
  progress: number;
}

/** The id of the one final event (`completed`, `failed` or `cancelled`), above every progress id. */
export const FINAL_EVENT_ID = 9_000;

/** pending 1000–1100, processing 2000–2100: the status's rank, then the whole percent. */
export function progressEventId(state: LiveState): number {
  const rank = state.status === "processing" ? 2 : 1;
  return rank * 1_000 + Math.min(100, Math.max(0, Math.floor(state.progress)));
}

/** The Last-Event-ID a client sent: a whole number, or 0 (nothing seen) for anything else. */
export function lastEventId(header: string | undefined): number {
  const value = header?.trim() ?? "";
  return /^\d{1,9}$/.test(value) ? Number(value) : 0;
}

export function eventFrame(name: string, id: number, data: unknown): string {
  // JSON.stringify escapes line breaks inside strings, so the data is always one `data:` line.
  return `event: ${name}\nid: ${id}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function commentFrame(text: string): string {
  return `: ${text}\n\n`;
}
