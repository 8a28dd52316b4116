// OpenAPI operations of src/files/routes.ts: EvoLink's files API on the gateway (/api/v1/files/*, tenant JWT,
// answers and errors in EvoLink's `{success, code, msg, data}` envelope) and the public signed file URLs
// (/files/{token}/{name}, R2 backend) that the upstream fetches from.
import * as z from "zod";
import { FILE_LIST_PAGE_MAX } from "../config/constants";
import type { ErrorCode } from "../http/errors";
import type { OperationSpec } from "../openapi/registry";
import { jsonUploadSchema } from "./schemas";
import { EXTENSIONS } from "./sniff";
import { FileListQuery } from "./query";

const FileData = z.object({
  file_id: z.string().describe("The gateway's file id (`file_…`); DELETE takes it."),
  file_name: z.string().describe("Stored file name."),
  original_name: z.string().describe("Original file name."),
  file_size: z.int().describe("File size in bytes."),
  mime_type: z.string().describe("The file's type, read from its first bytes."),
  upload_path: z.string().describe("The file's upload path."),
  file_url: z
    .string()
    .describe(
      "The URL to put in `video_urls`: with FILES_BACKEND=r2 a signed gateway URL (/files/{token}/{name}) that expires with the file; else EvoLink's own.",
    ),
  download_url: z.string().describe("Same as `file_url`."),
  upload_time: z.string().describe("Upload time (ISO 8601)."),
  expires_at: z.string().describe("When the file is deleted (ISO 8601, 72 hours after upload)."),
});

/** EvoLink's success envelope around `data`. */
const envelope = <T extends z.ZodType>(data: T) =>
  z.object({
    success: z.literal(true),
    code: z.literal(200).describe("The HTTP status."),
    msg: z.string(),
    data,
  });

const FILE_EXAMPLE = {
  file_id: "file_k3v7q2mzxa4b6c5dpe2fgh7j",
  file_name: "reference.mp4",
  original_name: "reference.mp4",
  file_size: 5242880,
  mime_type: "video/mp4",
  upload_path: "videos",
  file_url:
    "https://gateway.example.com/files/eyJ0IjoiYWNtZSIsImYiOiJmaWxlX2szdjdxMm16eGE0YjZjNWRwZTJmZ2g3aiJ9.c2ln/reference.mp4",
  download_url:
    "https://gateway.example.com/files/eyJ0IjoiYWNtZSIsImYiOiJmaWxlX2szdjdxMm16eGE0YjZjNWRwZTJmZ2g3aiJ9.c2ln/reference.mp4",
  upload_time: "2026-12-02T10:00:00.000Z",
  expires_at: "2026-12-05T10:00:00.000Z",
};

const uploaded = {
  description: "The file is stored; `data.file_url` goes into a generation's `video_urls`.",
  schema: envelope(FileData),
  example: { success: true, code: 200, msg: "File uploaded successfully", data: FILE_EXAMPLE },
};

/** What every upload can be refused with, whatever the route. */
const UPLOAD_ERRORS: readonly ErrorCode[] = [
  "invalid_request",
  "insufficient_quota",
  "payload_too_large",
  "unsupported_media_type",
  "not_found",
  "upstream_rate_limited",
  "upstream_error",
  "upstream_unavailable",
  "upstream_timeout",
];

const UPLOAD_DESCRIPTION =
  "EvoLink's files API with your JWT. The file must be an MP4 or QuickTime video, or a JPEG, PNG, GIF or WebP image (read from its bytes; 415 otherwise), at most MAX_UPLOAD_BYTES (413). `max_files` and `monthly_upload_bytes` (per tenant and per user) are checked before any byte is read and while they stream (402 `insufficient_quota`). Files expire after 72 hours. Errors carry both envelopes: EvoLink's `success`, `code`, `msg` and reelgate's `error`.";

const files = (spec: Omit<OperationSpec, "api" | "tag" | "security" | "errorEnvelope">): OperationSpec => ({
  api: "tenant",
  tag: "Files",
  security: "tenant",
  errorEnvelope: "evolink",
  ...spec,
});

const MEDIA_TYPES = Object.keys(EXTENSIONS);

const fileResponseHeaders = ["ETag", "Accept-Ranges", "Content-Length"] as const;

const publicFile = (method: "get" | "head"): OperationSpec => ({
  api: "tenant",
  method,
  path: "/files/{token}/{name}",
  operationId: method === "get" ? "getSignedFile" : "headSignedFile",
  summary:
    method === "get" ? "Download an uploaded file (signed URL)" : "An uploaded file's headers (signed URL)",
  description: `The \`file_url\` of an upload stored in R2 (FILES_BACKEND=r2): no credentials, the signed token is the permission, and it expires with the file. ${method === "get" ? "Answers `Range` requests (206, or 416 for a range past the end) and conditional requests (304)." : "The file's type, size and ETag, without its bytes."} A bad, expired or deleted token is 404.`,
  tag: "Files",
  security: "none",
  pathParams: {
    token: { schema: z.string(), description: "The signed, expiring token of the file URL." },
    name: {
      schema: z.string(),
      description: "The file's name (not checked; for the reader's sake).",
      example: "reference.mp4",
    },
  },
  responses:
    method === "get"
      ? {
          200: { description: "The file.", headers: fileResponseHeaders, binary: MEDIA_TYPES },
          206: {
            description: "The bytes the `Range` header asked for.",
            headers: [...fileResponseHeaders, "Content-Range"],
            binary: MEDIA_TYPES,
          },
          304: { description: "Not modified (a conditional request's `If-None-Match` matched)." },
          416: {
            description:
              "The `Range` starts at or past the end of the file (or asks for its last 0 bytes); `Content-Range: bytes */{size}` gives the file's size. No body.",
            headers: ["Content-Range"],
          },
        }
      : { 200: { description: "The file's headers, no body.", headers: fileResponseHeaders } },
  errors: ["not_found"],
});

export const filesOperations: OperationSpec[] = [
  files({
    method: "post",
    path: "/api/v1/files/upload/stream",
    operationId: "uploadFileStream",
    summary: "Upload a file (multipart form)",
    description: `${UPLOAD_DESCRIPTION} One \`file\` part per request; the text fields may come before or after it.`,
    body: {
      mediaType: "multipart/form-data",
      schema: {
        type: "object",
        required: ["file"],
        properties: {
          file: { type: "string", format: "binary", description: "The file's bytes (one per request)." },
          upload_path: {
            type: "string",
            maxLength: 256,
            description: "Also `uploadPath`; `videos` when not given.",
          },
          uploadPath: { type: "string", maxLength: 256, description: "Same as `upload_path`." },
          file_name: {
            type: "string",
            maxLength: 256,
            description: "Also `fileName`; else the part's filename, else the file's id.",
          },
          fileName: { type: "string", maxLength: 256, description: "Same as `file_name`." },
        },
        additionalProperties: false,
      },
    },
    responses: { 200: uploaded },
    errors: UPLOAD_ERRORS,
  }),
  files({
    method: "post",
    path: "/api/v1/files/upload/base64",
    operationId: "uploadFileBase64",
    summary: "Upload a file (base64 JSON)",
    description: `${UPLOAD_DESCRIPTION} The base64 text is decoded as it streams (at most MAX_UPLOAD_BYTES decoded).`,
    body: {
      schema: jsonUploadSchema("base64_data"),
      examples: {
        data_url: {
          value: {
            base64_data: "data:video/mp4;base64,AAAAGGZ0eXBpc29tAAACAGlzb21pc28y…",
            file_name: "reference.mp4",
          },
        },
      },
    },
    responses: { 200: uploaded },
    errors: UPLOAD_ERRORS,
  }),
  files({
    method: "post",
    path: "/api/v1/files/upload/url",
    operationId: "uploadFileUrl",
    summary: "Upload a file from a URL",
    description: `${UPLOAD_DESCRIPTION} The URL obeys the rules of \`video_urls\` on every redirect hop.`,
    body: {
      schema: jsonUploadSchema("file_url"),
      examples: {
        url: { value: { file_url: "https://cdn.example.com/clips/reference.mp4", upload_path: "refs" } },
      },
    },
    responses: { 200: uploaded },
    errors: UPLOAD_ERRORS,
  }),
  files({
    method: "get",
    path: "/api/v1/files/quota",
    operationId: "getFileQuota",
    summary: "Your file quota",
    description:
      "EvoLink's quota answer: of the `max_files` limits (the user's for a token with `sub`, the tenant's) and, with FILES_BACKEND=evolink, the room left in the operator's EvoLink account, the one that leaves the least room. With FILES_BACKEND=r2 a tenant that sets no `max_files` has EvoLink's default, 2000. `remain_files` is what may still be uploaded. Monthly upload bytes are in GET /v1/usage.",
    responses: {
      200: {
        description: "Files stored and the limit that applies.",
        schema: envelope(
          z.object({
            user_group: z.enum(["tenant", "user"]).describe("`user` for a token with `sub`, else `tenant`."),
            used_files: z
              .int()
              .nonnegative()
              .describe(
                "Files stored now under the limit shown (the caller's own when EvoLink's account is the tightest).",
              ),
            max_files: z
              .int()
              .nonnegative()
              .describe(
                "The limit; when EvoLink's account is the tightest, `used_files` plus the room left there.",
              ),
            remain_files: z.int().nonnegative().describe("Files that may still be uploaded."),
            is_custom: z.boolean().describe("True when the limit shown is one the tenant set."),
            quota_reason: z.string().describe("Which limit the tenant set, when `is_custom`."),
          }),
        ),
        example: {
          success: true,
          code: 200,
          msg: "success",
          data: {
            user_group: "user",
            used_files: 3,
            max_files: 20,
            remain_files: 17,
            is_custom: true,
            quota_reason: "each user's max_files",
          },
        },
      },
    },
    errors: ["upstream_rate_limited", "upstream_error", "upstream_unavailable", "upstream_timeout"],
  }),
  files({
    method: "get",
    path: "/api/v1/files/list",
    operationId: "listFiles",
    summary: "List your files",
    description:
      "Newest first; a token with `sub` sees that user's files, one without sees all the tenant's.",
    query: FileListQuery,
    queryDescriptions: {
      page: "1-based page.",
      pageSize: `Files per page, at most ${FILE_LIST_PAGE_MAX}.`,
      page_size: "Same as `pageSize` (used when `pageSize` is not given).",
    },
    responses: {
      200: {
        description: "A page of files.",
        schema: envelope(
          z.object({
            files: z.array(FileData),
            total: z.int().describe("Live files in all pages."),
            page: z.int(),
            pageSize: z.int(),
          }),
        ),
        example: {
          success: true,
          code: 200,
          msg: "success",
          data: { files: [FILE_EXAMPLE], total: 1, page: 1, pageSize: 20 },
        },
      },
    },
    errors: ["invalid_request"],
  }),
  files({
    method: "delete",
    path: "/api/v1/files/{file_id}",
    operationId: "deleteFile",
    summary: "Delete a file",
    description:
      "Deletes the file and frees its `max_files` slot. Another user's or tenant's file, or an expired one, is 404.",
    pathParams: {
      file_id: {
        schema: z.string(),
        description: "The file's id.",
        example: "file_k3v7q2mzxa4b6c5dpe2fgh7j",
      },
    },
    responses: {
      200: {
        description: "Deleted.",
        schema: envelope(z.object({ file_id: z.string(), deleted: z.literal(true) })),
        example: {
          success: true,
          code: 200,
          msg: "File deleted successfully",
          data: { file_id: "file_k3v7q2mzxa4b6c5dpe2fgh7j", deleted: true },
        },
      },
    },
    errors: ["not_found"],
  }),
  publicFile("get"),
  publicFile("head"),
];
