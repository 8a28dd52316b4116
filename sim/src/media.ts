// The results' own host: EvoLink's result links point at a CDN that serves the video for 24 hours ("valid for
// 24 hours, please save them promptly") and then refuses it. The simulator serves each completed task's
// result at `{mediaBaseUrl}/media/{task id}.mp4`, on any host it is reached by, as such a CDN would: public
// (no key), GET and HEAD, single ranges, an ETag, then `403` once the link has expired on the sim clock.
import { MAX_RESULT_BYTES, MIN_RESULT_BYTES, mp4Stream } from "./mp4";
import type { FaultStatus, SimTask } from "./types";

export const DEFAULT_MEDIA_BASE_URL = "https://media.sim.evolink.test";
export const DEFAULT_RESULT_BYTES = 2_000_000;
export const DEFAULT_RESULT_TTL_MS = 24 * 60 * 60_000;
const MEDIA_PATH = /^\/media\/([^/]+)\.mp4$/;

export interface MediaSettings {
  /** Size of the result of each task created from now on (a task keeps the size it was created with). */
  bytes: number;
  /** How long a result link works, counted from the task's end; applies to every link, old ones too. */
  ttlMs: number;
}

export function isMediaPath(pathname: string): boolean {
  return MEDIA_PATH.test(pathname);
}

export function mediaUrl(baseUrl: string, taskId: string): string {
  return `${baseUrl}/media/${encodeURIComponent(taskId)}.mp4`;
}

/** The origin results are served from; throws unless it is a bare http(s) origin. */
export function parseMediaBaseUrl(value: string): string {
  let url: URL | undefined;
  try {
    url = new URL(value);
  } catch {
    // reported below
  }
  if (!url || !/^https?:$/.test(url.protocol) || url.pathname !== "/" || url.search || url.hash)
    throw new Error(`media base URL must be an http(s) origin without a path, got ${value}`);
  return url.origin;
}

/** Validates the JSON of POST /__sim/media (`bytes`, `ttl_ms`, both optional); throws naming the problem. */
export function parseMediaSettings(input: unknown): Partial<MediaSettings> {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new Error("media settings must be an object");
  const { bytes, ttl_ms, ...rest } = input as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra) throw new Error(`unknown media setting ${extra}`);
  const out: Partial<MediaSettings> = {};
  if (bytes !== undefined) out.bytes = checkBytes(bytes);
  if (ttl_ms !== undefined) out.ttlMs = checkTtl(ttl_ms);
  return out;
}

export function checkBytes(value: unknown): number {
  if (
    !Number.isInteger(value) ||
    (value as number) < MIN_RESULT_BYTES ||
    (value as number) > MAX_RESULT_BYTES
  )
    throw new Error(`bytes must be an integer from ${MIN_RESULT_BYTES} to ${MAX_RESULT_BYTES}`);
  return value as number;
}

export function checkTtl(value: unknown): number {
  if (!Number.isSafeInteger(value) || (value as number) < 0)
    throw new Error("ttl_ms must be a non-negative integer");
  return value as number;
}

/** The task id a media path names, or undefined. */
export function mediaTaskId(pathname: string): string | undefined {
  const m = MEDIA_PATH.exec(pathname);
  if (!m) return undefined;
  try {
    return decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
}

/** A CDN's error answer: a small XML body, as S3-style object stores send. */
export function mediaError(
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
) {
  const body = `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${message}</Message></Error>\n`;
  return new Response(body, { status, headers: { "content-type": "application/xml", ...headers } });
}

const FAULTS: Record<FaultStatus, [string, string]> = {
  401: ["Unauthorized", "Authentication required."],
  402: ["PaymentRequired", "Payment required."],
  403: ["AccessDenied", "Access Denied."],
  429: ["SlowDown", "Please reduce your request rate."],
  500: ["InternalError", "We encountered an internal error. Please try again."],
  503: ["ServiceUnavailable", "Service is unable to handle request."],
};

export function mediaFault(status: FaultStatus, retryAfterSeconds = 60): Response {
  const [code, message] = FAULTS[status];
  return mediaError(
    status,
    code,
    message,
    status === 429 ? { "retry-after": String(retryAfterSeconds) } : {},
  );
}

/**
 * The answer to GET/HEAD of a result: `task` is the task the path names (undefined when unknown), `now` the
 * sim clock. `breakAfter` is asked only when a body is sent (so the `mediaBreak` fault's count is spent on
 * answers that have one) and cuts that body after the bytes it returns.
 */
export function serveMedia(
  request: Request,
  task: SimTask | undefined,
  settings: MediaSettings,
  now: number,
  breakAfter?: () => number | undefined,
): Response {
  if (request.method !== "GET" && request.method !== "HEAD")
    return mediaError(405, "MethodNotAllowed", "The specified method is not allowed.", {
      allow: "GET, HEAD",
    });
  if (!task || task.status !== "completed" || task.finishedAt === undefined)
    return mediaError(404, "NoSuchKey", "The specified key does not exist.");
  if (now >= task.finishedAt + settings.ttlMs) return mediaError(403, "AccessDenied", "Request has expired.");
  const size = task.resultBytes;
  const etag = `"${task.id}-${size}"`;
  const headers: Record<string, string> = {
    "accept-ranges": "bytes",
    etag,
    "last-modified": new Date(task.finishedAt).toUTCString(),
  };
  if (matches(request.headers.get("if-none-match"), etag))
    return new Response(null, { status: 304, headers });
  const ifRange = request.headers.get("if-range");
  const range = ifRange === null || ifRange === etag ? parseRange(request.headers.get("range"), size) : null;
  if (range === "unsatisfiable")
    return new Response(null, {
      status: 416,
      headers: { ...headers, "content-range": `bytes */${size}`, "content-length": "0" },
    });
  const [start, end] = range ?? [0, size];
  headers["content-type"] = "video/mp4";
  headers["content-length"] = String(end - start);
  if (range) headers["content-range"] = `bytes ${start}-${end - 1}/${size}`;
  const status = range ? 206 : 200;
  if (request.method === "HEAD") return new Response(null, { status, headers });
  return new Response(withLength(mp4Stream(task.id, size, start, end, breakAfter?.()), end - start), {
    status,
    headers,
  });
}

/** True when an If-None-Match list names `etag` (weak comparison) or is `*`. */
function matches(header: string | null, etag: string): boolean {
  if (header === null) return false;
  return header.split(",").some((tag) => {
    const t = tag.trim();
    return t === "*" || t.replace(/^W\//, "") === etag;
  });
}

/**
 * One `bytes=` range as [start, end) of a `size`-byte file; null when there is no usable Range (absent,
 * malformed or several ranges: the whole file is sent, as RFC 9110 allows), "unsatisfiable" for 416.
 */
export function parseRange(header: string | null, size: number): [number, number] | null | "unsatisfiable" {
  if (header === null) return null;
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === "" && m[2] === "")) return null;
  if (m[1] === "") {
    const suffix = Number(m[2]);
    return suffix === 0 ? "unsatisfiable" : [Math.max(0, size - suffix), size];
  }
  const start = Number(m[1]);
  const last = m[2] === "" ? Infinity : Number(m[2]);
  if (last < start) return null; // an invalid range-spec: the header is ignored
  if (start >= size) return "unsatisfiable";
  return [start, Math.min(last, size - 1) + 1];
}

/**
 * On workerd, a FixedLengthStream makes the runtime send Content-Length instead of chunked encoding. The pipe
 * keeps backpressure, so memory stays one chunk deep; elsewhere the stream is used as it is.
 */
function withLength(stream: ReadableStream<Uint8Array>, length: number): ReadableStream<Uint8Array> {
  const Fixed = (
    globalThis as { FixedLengthStream?: new (n: number) => TransformStream<Uint8Array, Uint8Array> }
  ).FixedLengthStream;
  if (!Fixed) return stream;
  const fixed = new Fixed(length);
  stream.pipeTo(fixed.writable).catch(() => {
    // the reader went away or the body was cut on purpose (mediaBreak): nothing more to send
  });
  return fixed.readable;
}
