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
 * Streams `opened` into `key`; returns its length and SHA-256 (hex). With `cap`, a body of unknown length
 * that passes it stops there (TooLarge), and nothing is left in the bucket. Throws on any failure.
 */
export async function writeResult(
  bucket: R2Bucket,
  key: string,
  opened: OpenedSource,
  cap: number | null,
): Promise<{ bytes: number; sha256: string }> {
  const digest = new crypto.DigestStream("SHA-256");
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
  const httpMetadata = { contentType: opened.contentType };
  const tapped = opened.body.pipeThrough(tap);
  if (opened.length !== null) {
    const fixed = tapped.pipeThrough(new FixedLengthStream(opened.length));
    await bucket.put(key, fixed, { httpMetadata });
  } else {
    await putChunks(bucket, key, tapped, opened.contentType);
  }
  const sum = new Uint8Array(await digest.digest);
  return { bytes, sha256: [...sum].map((b) => b.toString(16).padStart(2, "0")).join("") };
}
