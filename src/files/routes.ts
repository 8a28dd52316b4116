// EvoLink's files API on the gateway (/api/v1/files/*, tenant JWT) and the public, signed file URLs the
// upstream fetches from (/files/{token}/{name}, R2 backend). Route order mirrors EvoLink's docs.
import { type Context, Hono } from "hono";
import { tenantAuth } from "../auth/middleware";
import { FILE_JSON_OVERHEAD_BYTES } from "../config/constants";
import type { HttpEnv } from "../http/context";
import type { TenantEnv } from "../auth/principal";
import { readJsonBody } from "../http/body";
import { readLimit } from "../http/read-limit";
import { ApiError } from "../http/errors";
import { query } from "../http/validate";
import { tenantObject } from "../state/client";
import { findTenantByIssuer, isCurrentIncarnation } from "../tenants/lookup";
import { fileNotFound, filesNotFound, filesOk, filesOnError } from "./envelope";
import { filesApi } from "./evolink";
import { tooLarge } from "./limits";
import { boundaryOf, multipartParts, type Part, textOf } from "./multipart";
import { serveObject } from "../http/r2";
import { r2Key } from "./r2";
import { verifyFileToken } from "./signed-url";
import { checkField, openUrl, parseJsonUpload, uploadUrlToEvolink } from "./sources";
import { openBase64Json } from "./base64-json";
import { type Fields, filesCall, runUpload, type Source } from "./upload";
import { fileQuotaView, type FilesBound, uploadLimits } from "./quota";
import { FileListQuery } from "./query";
import { fileView } from "./view";

export const filesRoutes = new Hono<TenantEnv>();
filesRoutes.onError(filesOnError);
// Reads (list, quota) are counted like every tenant read (src/app.ts); a 429 carries both envelopes.
filesRoutes.use("*", tenantAuth({ findTenantByIssuer }), readLimit());

filesRoutes.post("/upload/stream", async (c) => {
  const max = c.get("config").maxUploadBytes;
  refuseDeclaredOver(c.req.header("content-length"), max + FILE_JSON_OVERHEAD_BYTES, max);
  const boundary = boundaryOf(c.req.header("content-type") ?? null);
  return runUpload(c, 0, () => openMultipart(c.req.raw.body, boundary));
});

filesRoutes.post("/upload/base64", async (c) => {
  const max = c.get("config").maxUploadBytes;
  refuseDeclaredOver(c.req.header("content-length"), Math.ceil(max / 3) * 4 + FILE_JSON_OVERHEAD_BYTES, max);
  requireJson(c.req.header("content-type"));
  // Decoded while it streams (src/files/base64-json.ts): the size cap and the quotas apply to the bytes.
  return runUpload(c, 0, () => openBase64Json(c.req.raw.body));
});

filesRoutes.post("/upload/url", async (c) => {
  const config = c.get("config");
  const body = parseJsonUpload(await readJsonBody(c.req.raw, FILE_JSON_OVERHEAD_BYTES), "file_url");
  if (config.filesBackend === "evolink") return uploadUrlToEvolink(c, body.value, body.fields);
  return runUpload(c, 0, () => openUrl(body.value, body.fields, config));
});

filesRoutes.get("/quota", async (c) => {
  const { tenant, sub } = c.get("principal");
  const backend = c.get("config").filesBackend;
  const limits = uploadLimits(tenant, backend);
  // The tenant's counts and, with EvoLink's backend, its account's room, asked at once.
  const [usage, upstream] = await Promise.all([
    tenantObject(c.env, tenant).filesUsage(sub ?? null, Date.now()),
    backend === "evolink" ? evolinkRoom(c) : null,
  ]);
  const scopes: FilesBound[] = [
    {
      max: limits.tenant.max_files,
      used: usage.tenant.files,
      reason: tenant.quotas?.max_files === undefined ? null : "the tenant's max_files",
    },
  ];
  // The user's own limit first: on a tie it is the one a user can act on.
  if (usage.user)
    scopes.unshift({ max: limits.user.max_files, used: usage.user.files, reason: "each user's max_files" });
  const view = fileQuotaView(scopes, upstream, sub ? "user" : "tenant");
  return filesOk(c, view);
});

/** The slots left in the operator's EvoLink account (its `remain_files`, checked to be a count). */
async function evolinkRoom(c: Context<TenantEnv>): Promise<number> {
  let data: Record<string, unknown>;
  try {
    data = await filesApi(filesCall(c), "/api/v1/files/quota", { method: "GET" });
  } catch (err) {
    // An upload's refusals (400, 404, 413, 415) mean nothing here: the file service failed to answer.
    if (err instanceof ApiError && !err.code.startsWith("upstream_"))
      throw new ApiError("upstream_error", "The file service failed to answer its quota");
    throw err;
  }
  const left = data.remain_files;
  if (typeof left !== "number" || !Number.isInteger(left) || left < 0)
    throw new ApiError("upstream_error", "The file service returned an unreadable quota");
  return left;
}

filesRoutes.get("/list", query(FileListQuery), async (c) => {
  const { tenant, sub } = c.get("principal");
  const { page, pageSize } = c.req.valid("query");
  const result = await tenantObject(c.env, tenant).filesList(
    sub ?? null,
    Date.now(),
    (page - 1) * pageSize,
    pageSize,
  );
  const files = await Promise.all(result.files.map((f) => fileView(c, f, tenant)));
  return filesOk(c, { files, total: result.total, page, pageSize });
});

filesRoutes.delete("/:file_id", async (c) => {
  const { tenant, sub } = c.get("principal");
  const id = c.req.param("file_id");
  if (!/^file_[a-z2-7]{1,64}$/.test(id)) throw fileNotFound();
  const removed = await tenantObject(c.env, tenant).filesDelete(id, sub ?? null, Date.now());
  if (!removed) throw fileNotFound();
  if (removed.backend === "r2") await c.env.UPLOADS?.delete(r2Key(tenant.id, removed.id));
  else if (removed.upstreamId) {
    const path = `/api/v1/files/${encodeURIComponent(removed.upstreamId)}`;
    await filesApi({ config: c.get("config"), log: c.get("log"), requestId: c.get("requestId") }, path, {
      method: "DELETE",
    }).catch((err: unknown) => {
      // The record is gone either way; EvoLink deletes the file itself when it expires.
      c.get("log").warn("files_upstream_delete_failed", { file_id: id, error: String(err) });
    });
  }
  return filesOk(c, { file_id: id, deleted: true }, "File deleted successfully");
});

filesRoutes.all("*", filesNotFound);

/** GET/HEAD {PUBLIC_BASE_URL}/files/{token}/{name}: no credentials but the signed, expiring token. */
export const publicFileRoutes = new Hono<HttpEnv>();

publicFileRoutes.on(["GET", "HEAD"], "/:token/:name?", async (c) => {
  const claims = await verifyFileToken(c.get("config").signingSecret, c.req.param("token"), Date.now());
  const bucket = c.env.UPLOADS;
  // A deleted tenant's URLs, and its earlier life's, die with its record, whatever R2 still holds.
  const current =
    claims !== null &&
    (await isCurrentIncarnation(c.env, { id: claims.tenantId, incarnation: claims.incarnation }));
  const res =
    current && bucket ? await serveObject(bucket, r2Key(claims.tenantId, claims.fileId), c.req.raw) : null;
  if (!res) throw fileNotFound();
  return res;
});

/** The `file` part of a multipart body, with the text fields before it and a reader for those after. */
async function openMultipart(body: ReadableStream<Uint8Array> | null, boundary: string): Promise<Source> {
  const parts = multipartParts(body, boundary);
  const fields: Fields = {};
  // Not `for await`: leaving such a loop would close the generator, and the fields after the file are read
  // from it later.
  for (let next = await parts.next(); !next.done; next = await parts.next()) {
    const part = next.value;
    if (part.name === "file") {
      return {
        declaredType: part.contentType,
        chunks: part.body,
        fields,
        ...(part.filename ? { defaultName: part.filename } : {}),
        trailing: async () => {
          const after: Fields = {};
          for (let rest = await parts.next(); !rest.done; rest = await parts.next())
            await readField(rest.value, after);
          return after;
        },
      };
    }
    await readField(part, fields);
  }
  throw new ApiError("invalid_request", "The form has no `file` part", { param: "file" });
}

const FIELD_NAMES: Record<string, keyof Fields> = {
  upload_path: "uploadPath",
  uploadPath: "uploadPath",
  file_name: "fileName",
  fileName: "fileName",
};

async function readField(part: Part, into: Fields): Promise<void> {
  const key = FIELD_NAMES[part.name];
  if (part.name === "file")
    throw new ApiError("invalid_request", "Send one `file` per request", { param: "file" });
  if (!key)
    throw new ApiError(
      "invalid_request",
      `Unknown form field "${part.name.slice(0, 64)}" (accepted: file, upload_path, file_name)`,
      { param: part.name.slice(0, 64) },
    );
  into[key] = checkField(part.name, await textOf(part, 256));
}

function requireJson(header: string | undefined): void {
  if (!/^application\/json\s*(;\s*charset="?utf-8"?\s*)?$/i.test(header ?? ""))
    throw new ApiError(
      "unsupported_media_type",
      `Content-Type must be application/json (got ${header === undefined ? "none" : JSON.stringify(header.slice(0, 100))})`,
    );
}

function refuseDeclaredOver(header: string | undefined, limit: number, max: number): void {
  if (header !== undefined && /^\d+$/.test(header.trim()) && Number(header) > limit) throw tooLarge(max);
}
