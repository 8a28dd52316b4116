// One copy of a result from the upstream's link into R2, streamed: the bytes pass through a SHA-256 tap on
// their way into the bucket and are never held whole (a known length goes in one put through a
// FixedLengthStream; an unknown one in R2_PART_BYTES multipart parts). The decision whether the bytes may be
// kept at all (the storage limits) is the caller's, taken synchronously in the tenant's object between
// `open` (the length is known) and `write`.
import { RESULT_COPY_TIMEOUT_MS } from "../config/constants";
import { putChunks } from "../http/r2";
import { checkGatewayUrl } from "../net/urls";

/** The upstream's answer, opened: what it says it holds, and its body still unread. */
export interface OpenedSource {
  kind: "open";
  /** Content-Length, when the upstream sent one. */
  length: number | null;
  contentType: string;
  body: ReadableStream<Uint8Array>;
}

export type SourceOutcome = OpenedSource | Exclude<Fetched, { kind: "answer" }>;

/** An upstream answer a URL may pass on (200, 206, 304, 416), or why there is none. */
export type Fetched =
  | { kind: "answer"; response: Response }
  /** The link no longer serves (403/404/410, as a CDN answers an expired link): no retry can help. */
  | { kind: "gone"; status: number }
  /** Worth another attempt later (a 5xx, 429, a network error, a timeout). */
  | { kind: "retry"; reason: string };

const ANSWERS = new Set([200, 206, 304, 416]);

/** Requests the upstream's link (checked by the gateway's URL rule: no internal address, unless dev). */
export async function fetchSource(
  source: string,
  allowLocal: boolean,
  init: { method?: string; headers?: Record<string, string> } = {},
): Promise<Fetched> {
  const checked = checkGatewayUrl(source, { allowLocal });
  if (!checked.ok) return { kind: "gone", status: 0 };
  let res: Response;
  try {
    res = await fetch(checked.url, { ...init, signal: AbortSignal.timeout(RESULT_COPY_TIMEOUT_MS) });
  } catch (err) {
    return { kind: "retry", reason: String(err) };
  }
  if (ANSWERS.has(res.status)) return { kind: "answer", response: res };
  await res.body?.cancel();
  if (res.status === 403 || res.status === 404 || res.status === 410)
    return { kind: "gone", status: res.status };
  return { kind: "retry", reason: `upstream answered ${res.status}` };
}

/** GETs the whole result for a copy. */
export async function openSource(source: string, allowLocal: boolean): Promise<SourceOutcome> {
  const fetched = await fetchSource(source, allowLocal);
  if (fetched.kind !== "answer") return fetched;
  const res = fetched.response;
  if (res.status !== 200 || res.body === null) {
    await res.body?.cancel();
    return { kind: "retry", reason: `upstream answered ${res.status}` };
  }
  const declared = res.headers.get("content-length");
  const length = declared !== null && /^\d+$/.test(declared) ? Number(declared) : null;
  const contentType = res.headers.get("content-type")?.split(";")[0]?.trim() || "video/mp4";
  return { kind: "open", length, contentType, body: res.body };
}

export class TooLarge extends Error {
  override readonly name = "TooLarge";
}

/**
 * Streams `opened` into `key`; returns its length and MD5 (hex). A known length goes to R2 as the fetch's own
 * body: no JavaScript touches the bytes (a JavaScript transform here halved the copy's throughput and made
 * memory grow with the file's size, docs/performance.md), and R2's own MD5 of the object is the checksum. An unknown length is counted and hashed on its way into multipart parts, and
 * with `cap` stops there (TooLarge), leaving nothing in the bucket. Throws on any failure.
 */
export async function writeResult(
  bucket: R2Bucket,
  key: string,
  opened: OpenedSource,
  cap: number | null,
): Promise<{ bytes: number; md5: string }> {
  const httpMetadata = { contentType: opened.contentType };
  if (opened.length !== null) {
    const stored = await putKnownLength(bucket, key, opened.body, opened.length, httpMetadata);
    if (stored === null || stored.size !== opened.length) {
      await bucket.delete(key);
      throw new Error(`stored ${stored?.size ?? 0} of ${opened.length} bytes`);
    }
    const md5 = stored.checksums.md5;
    return { bytes: stored.size, md5: md5 ? hex(new Uint8Array(md5)) : stored.etag };
  }
  const digest = new crypto.DigestStream("MD5");
  const hash = digest.getWriter();
  let bytes = 0;
  const tap = new TransformStream<Uint8Array, Uint8Array>({
    async transform(chunk, out) {
      bytes += chunk.byteLength;
      if (cap !== null && bytes > cap) throw new TooLarge(`more than ${cap} bytes`);
      await hash.write(chunk);
      out.enqueue(chunk);
    },
    async flush() {
      await hash.close();
    },
  });
  await putChunks(bucket, key, opened.body.pipeThrough(tap), opened.contentType);
  return { bytes, md5: hex(new Uint8Array(await digest.digest)) };
}

/**
 * A body of known length into R2. A fetch's own body (the upstream's answer with its Content-Length) goes in
 * as it is; R2 refuses a stream made in JavaScript (the tests' in-isolate upstream) before reading any of it,
 * and that one goes through a pipe that gives it the length.
 */
async function putKnownLength(
  bucket: R2Bucket,
  key: string,
  body: ReadableStream<Uint8Array>,
  length: number,
  httpMetadata: R2HTTPMetadata,
): Promise<R2Object | null> {
  try {
    return await bucket.put(key, body, { httpMetadata });
  } catch (err) {
    if (!(err instanceof TypeError) || body.locked) throw err;
  }
  const fixed = body.pipeThrough(new TransformStream()).pipeThrough(new FixedLengthStream(length));
  return bucket.put(key, fixed, { httpMetadata });
}

const hex = (bytes: Uint8Array): string => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
