// OpenAPI operation of src/events/routes.ts: a task's event stream.
import * as z from "zod";
import type { OperationSpec } from "../openapi/registry";
import { TASK_EXAMPLE } from "../tasks/present.openapi";
import { TASK_ID_PATH } from "../tasks/routes.openapi";
import { FINAL_EVENT_ID } from "./sse";

const FINAL_EXAMPLE = {
  ...TASK_EXAMPLE,
  status: "completed",
  progress: 100,
  results: ["https://cdn.example.com/out.mp4"],
  usage: undefined,
};

const STREAM_EXAMPLE = [
  `event: progress\nid: 1000\ndata: {"status":"pending","progress":0}\n`,
  `event: progress\nid: 2040\ndata: {"status":"processing","progress":40}\n`,
  `: keep-alive\n`,
  `event: completed\nid: ${FINAL_EVENT_ID}\ndata: ${JSON.stringify(FINAL_EXAMPLE)}\n`,
].join("\n");

export const eventOperations: OperationSpec[] = [
  {
    api: "tenant",
    method: "get",
    path: "/v1/tasks/{task_id}/events",
    operationId: "streamTaskEvents",
    summary: "Follow a task's events",
    description:
      "Server-Sent Events until the task ends, with the same rules as GET /v1/tasks/{task_id} (a task of another user or tenant is a 404). `progress` events carry `{status, progress}` whenever either changes; the one final event is named by the ended status (`completed`, `failed`, `cancelled`) and carries the task exactly as GET /v1/tasks/{task_id} answers it; then the stream closes. A comment (`: keep-alive`) is sent after 15 s of silence. Every event has an `id` that only grows with the task's state: reconnect with `Last-Event-ID` and only what you have not seen is sent. A stream with no event for a while (the operator's EVENTS_IDLE_MS, 10 minutes by default) or open for 30 minutes is closed with a comment; reconnect. Browsers' EventSource cannot send the Authorization header: read the stream with fetch (docs/events.md). Open streams are limited per user and per tenant (`quotas.max_event_streams`).",
    tag: "Tasks",
    security: "tenant",
    pathParams: TASK_ID_PATH,
    requestHeaders: {
      "Last-Event-ID": {
        description:
          "The `id` of the last event you received, to resume after it; the final event's id ends the stream at once.",
        example: "2040",
      },
    },
    responses: {
      200: {
        description: "The task's events, as a `text/event-stream`.",
        eventStream: {
          description:
            "Events `progress` (data `{status, progress}`) and one final `completed`, `failed` or `cancelled` (data: the task, as GET /v1/tasks/{task_id} answers it).",
          example: STREAM_EXAMPLE,
        },
      },
    },
    errors: ["task_not_found", "event_stream_limit_exceeded"],
  },
];
