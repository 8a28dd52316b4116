// The EvoLink backend: uploads forwarded to EvoLink's files API (FILES_BASE_URL) with the operator's key.
// A streamed file is re-encoded as a fresh multipart body whose file part is the checked chunks, so the
// bytes flow through (never buffered) and only the fields EvoLink documents are sent.
import type { Config } from "../config/env";
import { FILE_FETCH_TIMEOUT_MS, UPSTREAM_MAX_RESPONSE_BYTES } from "../config/constants";
import { ApiError } from "../http/errors";
import type { Logger } from "../http/log";
import { retryAfterSeconds } from "../upstream/client";
import { readBytesCapped } from "../util/stream";

export interface UpstreamFile {
  file_id: string;
  file_url: string;
  [key: string]: unknown;
}

export interface FilesCall {
  config: Config;
  log: Logger;
  requestId: string;
}

function headers(call: FilesCall): Headers {
  const h = new Headers();
  h.set("accept", "application/json");
  h.set("user-agent", "reelgate/0.1");
  h.set("x-request-id", call.requestId);
  h.set("authorization", `Bearer ${call.config.upstreamApiKey}`);
  return h;
}

/** A multipart body: text fields, one file part streamed from `file`, then the fields `after()` gives. */
export function multipartBody(
  fields: readonly [string, string][],
  file: { name: string; type: string; chunks: AsyncIterable<Uint8Array> },
  boundary: string,
  after: () => Promise<readonly [string, string][]> = async () => [],
): ReadableStream<Uint8Array> {
  const enc = new TextEncoder();
  const quote = (s: string) => s.replace(/[\r\n"\\]/g, "_");
  const field = (name: string, value: string) =>
    enc.encode(`--${boundary}\r\ncontent-disposition: form-data; name="${quote(name)}"\r\n\r\n${value}\r\n`);
  async function* parts() {
    for (const [name, value] of fields) yield field(name, value);
    yield enc.encode(
      `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="${quote(file.name)}"\r\ncontent-type: ${file.type}\r\n\r\n`,
    );
    yield* file.chunks;
    yield enc.encode("\r\n");
    for (const [name, value] of await after()) yield field(name, value);
    yield enc.encode(`--${boundary}--\r\n`);
  }
  // An IdentityTransformStream's write resolves once the other side has read the chunk (a pipe with no
  // buffer of its own), so the source may then reuse the chunk's buffer: nothing is copied here.
  const { readable, writable } = new IdentityTransformStream();
  const writer = writable.getWriter();
  void (async () => {
    try {
      for await (const chunk of parts()) await writer.write(chunk);
      await writer.close();
    } catch (err) {
      await writer.abort(err).catch(() => {});
    }
  })();
  return readable;
}

/**
 * Sends one request to the files API and returns its `data`. `failure()` reports an error the request
 * body raised while streaming (a cap, a quota), which wins over whatever the transport made of it.
 */
export async function filesApi(
  call: FilesCall,
  path: string,
  init: { method: string; body?: BodyInit; contentType?: string },
  failure: () => ApiError | undefined = () => undefined,
): Promise<UpstreamFile | Record<string, unknown>> {
  const h = headers(call);
  if (init.contentType) h.set("content-type", init.contentType);
  const url = `${call.config.filesBaseUrl}${path}`;
  const started = Date.now();
  let res: Response;
  try {
    res = await fetch(url, {
      method: init.method,
      headers: h,
      body: init.body ?? null,
      signal: AbortSignal.timeout(FILE_FETCH_TIMEOUT_MS),
    });
  } catch (err) {
    const own = failure();
    if (own) throw own;
    if (err instanceof ApiError) throw err;
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    call.log.warn("files_upstream_unreachable", { path, timed_out: timedOut, error: String(err) });
    throw timedOut
      ? new ApiError("upstream_timeout", "The file service did not answer in time")
      : new ApiError("upstream_error", "The file service could not be reached");
  }
  const own = failure();
  if (own) {
    await res.body?.cancel().catch(() => {});
    throw own;
  }
  const bytes = await readBytesCapped(res.body, UPSTREAM_MAX_RESPONSE_BYTES);
  let body: Record<string, unknown> | undefined;
  try {
    body = bytes ? (JSON.parse(new TextDecoder().decode(bytes)) as Record<string, unknown>) : undefined;
  } catch {
    body = undefined;
  }
  call.log.debug("files_upstream_call", { path, status: res.status, ms: Date.now() - started });
  if (res.ok && body?.success === true && typeof body.data === "object" && body.data !== null)
    return body.data as Record<string, unknown>;
  throw mapFilesError(call, res, body, path);
}

function mapFilesError(
  call: FilesCall,
  res: Response,
  body: Record<string, unknown> | undefined,
  path: string,
): ApiError {
  const msg =
    typeof body?.msg === "string"
      ? body.msg.split(call.config.upstreamApiKey).join("[redacted]").slice(0, 300)
      : undefined;
  switch (res.status) {
    case 400:
      return new ApiError("invalid_request", msg ?? "The file service rejected the upload");
    case 401:
    case 402:
    case 403:
      call.log.error("files_upstream_account_problem", { path, status: res.status });
      return new ApiError("upstream_unavailable", "The file service is temporarily unavailable", {
        headers: { "Retry-After": "60" },
      });
    case 404:
      return new ApiError("not_found", "File not found");
    case 413:
      return new ApiError("payload_too_large", msg ?? "The file service refused the file as too large");
    case 415:
      return new ApiError("unsupported_media_type", msg ?? "The file service refused the file type");
    case 429:
      return new ApiError("upstream_rate_limited", "The file service is rate limiting uploads; retry later", {
        headers: { "Retry-After": String(retryAfterSeconds(res.headers.get("retry-after"), Date.now())) },
      });
  }
  call.log.warn("files_upstream_failed", { path, status: res.status });
  if (res.ok) return new ApiError("upstream_error", "The file service returned an unreadable answer");
  return new ApiError("upstream_error", "The file service failed to handle the upload");
}

export function asUpstreamFile(data: Record<string, unknown>): UpstreamFile {
  if (typeof data.file_id !== "string" || typeof data.file_url !== "string")
    throw new ApiError("upstream_error", "The file service returned an unreadable answer");
  return data as UpstreamFile;
}
