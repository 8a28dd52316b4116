// The R2 backend: files in the operator's bucket under `files/{tenant}/{file id}`. A file is written from
// its chunks with R2's multipart upload in fixed R2_PART_BYTES parts, so at most one part is held in
// memory (R2 needs a known length for a plain put, which a multipart form field never declares).
import { R2_PART_BYTES } from "../config/constants";
import { uploadsPrefix } from "../state/buckets";

/** Under the tenant's uploads prefix, which a tenant's deletion empties (src/state/buckets.ts). */
export function r2Key(tenantId: string, fileId: string): string {
  return `${uploadsPrefix(tenantId)}${fileId}`;
}

/** Writes `chunks` to `key`; returns the bytes written. Nothing is left behind when a chunk throws. */
export async function putChunks(
  bucket: R2Bucket,
  key: string,
  chunks: AsyncIterable<Uint8Array>,
  contentType: string,
): Promise<number> {
  const httpMetadata = { contentType };
  const part = new Uint8Array(R2_PART_BYTES);
  let filled = 0;
  let total = 0;
  let upload: R2MultipartUpload | null = null;
  const uploaded: R2UploadedPart[] = [];
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
          upload ??= await bucket.createMultipartUpload(key, { httpMetadata });
          // The part has been sent once uploadPart resolves, so its buffer is reused: one part in memory.
          uploaded.push(await upload.uploadPart(uploaded.length + 1, part));
          filled = 0;
        }
      }
    }
    if (upload === null) {
      await bucket.put(key, part.subarray(0, filled), { httpMetadata });
      return total;
    }
    if (filled > 0) uploaded.push(await upload.uploadPart(uploaded.length + 1, part.subarray(0, filled)));
    await upload.complete(uploaded);
    return total;
  } catch (err) {
    if (upload) await upload.abort().catch(() => {});
    throw err;
  }
}

/** GET/HEAD of a stored file, with Range and conditional requests as R2 answers them. */
export async function serveObject(bucket: R2Bucket, key: string, request: Request): Promise<Response | null> {
  const head = request.method === "HEAD";
  const object = head
    ? await bucket.head(key)
    : await bucket.get(key, { range: request.headers, onlyIf: request.headers });
  if (object === null) return null;
  const headers = new Headers();
  object.writeHttpMetadata(headers);
  headers.set("etag", object.httpEtag);
  headers.set("accept-ranges", "bytes");
  headers.set("cache-control", "private, no-store");
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
    return new Response(body, { status: 206, headers });
  }
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
