// Reads a JSON request body safely: the media type is checked first, the size is enforced while the
// stream is read (Content-Length is only a shortcut, never trusted), and UTF-8 and JSON errors become
// clear 400s. Every API route that takes a body reads it here.
import { readBytesCapped } from "../util/stream";
import { ApiError } from "./errors";

/** Parses the body of `request` as JSON, refusing anything but `application/json` up to `maxBytes`. */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  assertJsonMediaType(request.headers.get("content-type"));
  const declared = request.headers.get("content-length");
  if (declared !== null && /^\d+$/.test(declared.trim()) && Number(declared) > maxBytes) {
    throw tooLarge(maxBytes);
  }
  const bytes = await readCapped(request.body, maxBytes);
  if (bytes.length === 0) throw new ApiError("invalid_request", "Request body is empty; send a JSON object");
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(bytes);
  } catch {
    throw new ApiError("invalid_request", "Request body is not valid UTF-8");
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    // The parser's message quotes the body, which may hold signed URLs: keep it out of the response.
    throw new ApiError("invalid_request", "Request body is not valid JSON");
  }
}

/** As `readJsonBody`, for a route whose body may be left out: none (or `Content-Length: 0`) reads as `{}`. */
export function readOptionalJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  if (request.headers.get("content-length") === "0" || !request.body) return Promise.resolve({});
  return readJsonBody(request, maxBytes);
}

/** `application/json`, optionally with `charset=utf-8` (JSON is UTF-8 by definition, RFC 8259). */
function assertJsonMediaType(header: string | null): void {
  const [type = "", ...params] = (header ?? "").split(";").map((part) => part.trim().toLowerCase());
  const charsetOk = params.every((p) => !p.startsWith("charset=") || /^charset="?utf-8"?$/.test(p));
  if (type !== "application/json" || !charsetOk) {
    const got = header === null ? "none" : JSON.stringify(header.slice(0, 100));
    throw new ApiError("unsupported_media_type", `Content-Type must be application/json (got ${got})`);
  }
}

/** All of `body`, or a 413 as soon as more than `maxBytes` have arrived (the rest is never read). */
async function readCapped(body: ReadableStream<Uint8Array> | null, maxBytes: number): Promise<Uint8Array> {
  const bytes = await readBytesCapped(body, maxBytes);
  if (bytes === null) throw tooLarge(maxBytes);
  return bytes;
}

function tooLarge(maxBytes: number): ApiError {
  return new ApiError("payload_too_large", `Request body must be at most ${maxBytes} bytes`);
}
