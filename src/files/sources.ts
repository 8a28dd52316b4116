// Where an upload's bytes come from besides a multipart form (and base64, ./base64-json.ts): a remote
// `file_url` — which obeys the rules of `video_urls` (no private, loopback or link-local host in any
// spelling, no credentials), on every redirect hop too — and the JSON fields these routes share.
import type { Context } from "hono";
import type { Config } from "../config/env";
import { FILE_FETCH_TIMEOUT_MS } from "../config/constants";
import type { TenantEnv } from "../auth/principal";
import { ApiError } from "../http/errors";
import { checkVideoUrl } from "../net/urls";
import { filesApi } from "./evolink";
import { chunksOf, tooLarge } from "./limits";
import { jsonUploadSchema } from "./schemas";
import { commitUpstream, type Fields, filesCall, type Source, withSlot } from "./upload";

const MAX_REDIRECTS = 3;

/** A form or JSON text field, refused when it holds control characters. */
export function checkField(name: string, value: string): string {
  if (/[\u0000-\u001f\u007f]/.test(value))
    throw new ApiError("invalid_request", `${name} must not contain control characters`, { param: name });
  return value;
}

function lastSegment(url: URL): string {
  try {
    return decodeURIComponent(url.pathname.split("/").pop() ?? "");
  } catch {
    return "";
  }
}

/** The JSON body of the base64 and url routes: the named value and the optional fields, nothing else. */
export function parseJsonUpload(
  body: unknown,
  key: "base64_data" | "file_url",
): { value: string; fields: Fields } {
  const parsed = jsonUploadSchema(key).safeParse(body);
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    const param = issue.code === "unrecognized_keys" ? issue.keys[0]! : String(issue.path[0] ?? key);
    const message =
      issue.code === "unrecognized_keys"
        ? `Unknown field "${param.slice(0, 64)}" (accepted: ${key}, upload_path, file_name)`
        : `${param} must be a non-empty string${param === key ? "" : " of at most 256 characters"}`;
    throw new ApiError("invalid_request", message, { param: param.slice(0, 64) });
  }
  const d = parsed.data as Record<string, string | undefined>;
  const fields: Fields = {};
  const uploadPath = d.upload_path ?? d.uploadPath;
  const fileName = d.file_name ?? d.fileName;
  if (uploadPath !== undefined) fields.uploadPath = checkField("upload_path", uploadPath);
  if (fileName !== undefined) fields.fileName = checkField("file_name", fileName);
  return { value: d[key]!, fields };
}

function checkFileUrl(raw: string): URL {
  // The same rules as video_urls, whatever DEV_ALLOW_LOCAL_URLS says: never a local or private host.
  const result = checkVideoUrl(raw);
  if (!result.ok) throw new ApiError("invalid_request", `file_url ${result.reason}`, { param: "file_url" });
  return result.url;
}

/** R2 backend: the gateway downloads `file_url` itself, following at most MAX_REDIRECTS checked hops. */
export async function openUrl(raw: string, fields: Fields, config: Config): Promise<Source> {
  let url = checkFileUrl(raw);
  const signal = AbortSignal.timeout(FILE_FETCH_TIMEOUT_MS);
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await fetch(url.href, { redirect: "manual", signal, headers: { "user-agent": "reelgate/0.1" } });
    } catch {
      throw new ApiError("invalid_request", "file_url could not be downloaded", { param: "file_url" });
    }
    const location = res.headers.get("location");
    if (res.status >= 300 && res.status < 400 && location) {
      await res.body?.cancel();
      if (hop >= MAX_REDIRECTS)
        throw new ApiError("invalid_request", "file_url redirects too many times", { param: "file_url" });
      url = checkFileUrl(new URL(location, url).href);
      continue;
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw new ApiError("invalid_request", `file_url answered HTTP ${res.status}`, { param: "file_url" });
    }
    const declared = res.headers.get("content-length");
    if (declared && /^\d+$/.test(declared) && Number(declared) > config.maxUploadBytes) {
      await res.body.cancel();
      throw tooLarge(config.maxUploadBytes);
    }
    const name = lastSegment(url);
    return {
      declaredType: res.headers.get("content-type"),
      chunks: chunksOf(res.body),
      fields,
      ...(name ? { defaultName: name } : {}),
    };
  }
}

/** EvoLink backend: EvoLink downloads `file_url` (its own size and type checks apply). */
export function uploadUrlToEvolink(c: Context<TenantEnv>, raw: string, fields: Fields): Promise<Response> {
  const url = checkFileUrl(raw);
  return withSlot(c, 0, async (id) => {
    const body: Record<string, string> = { file_url: url.href };
    if (fields.uploadPath) body.upload_path = fields.uploadPath;
    if (fields.fileName) body.file_name = fields.fileName;
    const data = await filesApi(filesCall(c), "/api/v1/files/upload/url", {
      method: "POST",
      body: JSON.stringify(body),
      contentType: "application/json",
    });
    const mime = typeof data.mime_type === "string" ? data.mime_type : "application/octet-stream";
    return commitUpstream(c, id, data, fields, { type: mime, size: () => 0 }, () => fields.fileName ?? id);
  });
}
