// R2 objects over HTTP, shared by uploads (src/files) and kept results (src/results): a stream of unknown
// length written with R2's multipart upload in fixed R2_PART_BYTES parts, so at most one part is held in
// memory (R2 needs a known length for a plain put, which a multipart form field never declares); and GET/HEAD
// of an object with Range and conditional requests.
import { R2_PART_BYTES } from "../config/constants";

/**
 * Writes `chunks` to `key`; returns the bytes written. Nothing is left behind when a chunk throws. Parts
 * are filled in two buffers taking turns: one is sent while the next fills, so reading the body does not
 * stop for each part's write (two parts in memory at most, whatever the size).
 */
export async function putChunks(
  bucket: R2Bucket,
  key: string,
  chunks: AsyncIterable<Uint8Array>,
  contentType: string,
): Promise<number> {
  const httpMetadata = { contentType };
  const buffers = [new Uint8Array(R2_PART_BYTES), new Uint8Array(R2_PART_BYTES)] as const;
  let part: Uint8Array = buffers[0];
  let filled = 0;
  let total = 0;
  let upload: R2MultipartUpload | null = null;
  const uploaded: R2UploadedPart[] = [];
  let sending: Promise<R2UploadedPart> | null = null;
  /** Sends `part` (after the previous part's write is done: its buffer is the one filled next). */
  const send = async (bytes: Uint8Array) => {
    upload ??= await bucket.createMultipartUpload(key, { httpMetadata });
    if (sending) uploaded.push(await sending);
    const number = uploaded.length + 1;
    sending = upload.uploadPart(number, bytes);
    // Awaited at the next part or the end; a failure meanwhile must not go unhandled.
    sending.catch(() => {});
  };
  try {
    for await (const chunk of chunks) {
      total += chunk.length;
      let offset = 0;
      while (offset < chunk.length) {
        const n = Math.min(chunk.length - offset, R2_PART_BYTES - filled);
        part.set(chunk.subarray(offset, offset + n), filled);
        filled += n;
        offset += n;
        if (filled === R2_PART_BYTES) {
          await send(part);
          part = part === buffers[0] ? buffers[1] : buffers[0];
          filled = 0;
        }
      }
    }
    if (upload === null) {
      await bucket.put(key, part.subarray(0, filled), { httpMetadata });
      return total;
    }
    if (filled > 0) await send(part.subarray(0, filled));
    if (sending) uploaded.push(await sending);
    await (upload as R2MultipartUpload).complete(uploaded);
    return total;
  } catch (err) {
    if (sending) await (sending as Promise<R2UploadedPart>).catch(() => {});
    if (upload) await (upload as R2MultipartUpload).abort().catch(() => {});
    throw err;
  }
}

/** Headers a caller sets on top of the object's own (Cache-Control defaults to `private, no-store`). */
export interface ServeOptions {
  cacheControl?: string;
  headers?: Record<string, string>;
}

/** GET/HEAD of a stored object, with Range and conditional requests as R2 answers them; null when absent. */
export async function serveObject(
  bucket: R2Bucket,
  key: string,
  request: Request,
  options: ServeOptions = {},
): Promise<Response | null> {
  const head = request.method === "HEAD";
  const object = head
    ? await bucket.head(key)
    : await bucket.get(key, { range: request.headers, onlyIf: request.headers });
  if (object === null) return null;
  const headers = new Headers();
  object.writeHttpMetadata(headers);
  headers.set("etag", object.httpEtag);
  headers.set("accept-ranges", "bytes");
  headers.set("cache-control", options.cacheControl ?? "private, no-store");
  for (const [name, value] of Object.entries(options.headers ?? {})) headers.set(name, value);
  headers.set("x-content-type-options", "nosniff");
  const body = "body" in object ? (object as R2ObjectBody).body : null;
  if (head || body === null) {
    headers.set("content-length", String(object.size));
    return new Response(null, { status: head ? 200 : 304, headers });
  }
  if (unsatisfiable(request.headers.get("range"), object.size)) {
    await body.cancel();
    headers.set("content-range", `bytes */${object.size}`);
    return new Response(null, { status: 416, headers });
  }
  const range = object.range as { offset?: number; length?: number } | undefined;
  if (range && request.headers.has("range")) {
    const offset = range.offset ?? 0;
    const length = range.length ?? object.size - offset;
    headers.set("content-range", `bytes ${offset}-${offset + length - 1}/${object.size}`);
    headers.set("content-length", String(length));
    return new Response(body, { status: 206, headers });
  }
  headers.set("content-length", String(object.size));
  return new Response(body, { status: 200, headers });
}

/**
 * True when `range` asks for one byte range that starts at or past the end of a `size`-byte file, or for
 * the last 0 bytes: RFC 9110 answers that 416, where R2 ignores the header (locally, at least) and the whole
 * file went out under a 206. A malformed header, or one asking for several ranges, is not refused: R2
 * serves the whole file, as the RFC allows.
 */
function unsatisfiable(range: string | null, size: number): boolean {
  const m = range === null ? null : /^bytes=(\d*)-(\d*)$/.exec(range.trim());
  if (!m) return false;
  const [, first, last] = m;
  if (first) return Number(first) >= size && (last === "" || Number(last) >= Number(first));
  return last === "0";
}
