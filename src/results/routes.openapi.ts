// OpenAPI operations of src/results/routes.ts: the signed URLs of kept results, served like video files.
import * as z from "zod";
import type { OperationSpec } from "../openapi/registry";

const headers = ["ETag", "Accept-Ranges", "Content-Length"] as const;
const VIDEO = ["video/mp4", "application/octet-stream"] as const;

const result = (method: "get" | "head"): OperationSpec => ({
  api: "tenant",
  method,
  path: "/results/{token}/{name}",
  operationId: method === "get" ? "getResult" : "headResult",
  summary: method === "get" ? "Download or stream a task's result" : "A task's result's headers",
  description: `A URL from an ended task's \`results\` (tenants whose \`results.retention_days\` is not 0): no credentials, the signed token is the permission (a \`<video>\` element plays it), and it expires when the tenant's retention ends. Served from the operator's bucket once the gateway has copied it, streamed from EvoLink's link until then. ${method === "get" ? "Answers `Range` requests (206, or 416 for a range past the end) and `If-None-Match` (304); `?download=1` adds `Content-Disposition: attachment`." : "The result's type, size and ETag, without its bytes."} \`Cache-Control: private\` with the remaining lifetime. A bad, altered, expired or deleted URL, or one of a deleted tenant, is 404.`,
  tag: "Tasks",
  security: "none",
  pathParams: {
    token: { schema: z.string(), description: "The signed token of the result URL." },
    name: {
      schema: z.string(),
      description: "The result's file name (not checked; the name a download is saved as).",
      example: "video-1.mp4",
    },
  },
  query: z.object({ download: z.enum(["1"]).optional() }),
  queryDescriptions: { download: "`1`: answer with `Content-Disposition: attachment` (save, not play)." },
  responses:
    method === "get"
      ? {
          200: { description: "The video.", headers, binary: VIDEO },
          206: {
            description: "The bytes the `Range` header asked for.",
            headers: [...headers, "Content-Range"],
            binary: VIDEO,
          },
          304: { description: "Not modified (`If-None-Match` matched)." },
          416: {
            description:
              "The `Range` starts at or past the end of the video; `Content-Range: bytes */{size}` gives its size. No body.",
            headers: ["Content-Range"],
          },
        }
      : { 200: { description: "The video's headers, no body.", headers } },
  errors: ["result_not_found"],
});

export const resultOperations: OperationSpec[] = [result("get"), result("head")];
