// The checks applied while an upload's bytes stream through: its type from the first bytes (415 when it
// is not an accepted type, or not what the client said it is) and its size (413 the moment it passes
// MAX_UPLOAD_BYTES; a quota refusal the moment it passes what the month has left).
import { ApiError } from "../http/errors";
import { declaredTypeFits, type FileType, SNIFF_BYTES, sniffType } from "./sniff";

export interface Checked {
  type: FileType;
  /** Every byte of the file, checked against the caps as it is pulled; each chunk is valid until the next. */
  chunks: AsyncGenerator<Uint8Array, void, undefined>;
  /** Bytes pulled so far (the file's size once `chunks` is done). */
  size(): number;
}

export interface Caps {
  maxBytes: number;
  /** What a monthly quota still allows, when less than `maxBytes`, with the error for going past it. */
  quota?: { bytes: number; error: () => ApiError };
}

export function tooLarge(maxBytes: number): ApiError {
  return new ApiError("payload_too_large", `File must be at most ${maxBytes} bytes`, {
    details: { details: { max_bytes: maxBytes } },
  });
}

/** Reads the file's head, sniffs its type, and returns the whole file as capped chunks. */
export async function checkFile(
  source: AsyncIterable<Uint8Array>,
  declaredType: string | null,
  caps: Caps,
): Promise<Checked> {
  const it = source[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let headBytes = 0;
  let ended = false;
  while (headBytes < SNIFF_BYTES) {
    const next = await it.next();
    if (next.done) {
      ended = true;
      break;
    }
    head.push(next.value.slice()); // a chunk may be valid only until the next read (chunkReader)
    headBytes += next.value.length;
  }
  if (headBytes === 0) throw new ApiError("invalid_request", "The file is empty", { param: "file" });
  const first = concat(head);
  const type = sniffType(first.subarray(0, SNIFF_BYTES));
  if (type === null)
    throw new ApiError(
      "unsupported_media_type",
      "Unsupported file type: send an MP4 or QuickTime video, or a JPEG, PNG, GIF or WebP image",
    );
  if (!declaredTypeFits(declaredType, type))
    throw new ApiError(
      "unsupported_media_type",
      `The file is ${type}, not the declared ${(declaredType ?? "").split(";")[0]!.trim().slice(0, 100)}`,
    );
  let size = 0;
  const count = (n: number) => {
    size += n;
    if (size > caps.maxBytes) throw tooLarge(caps.maxBytes);
    if (caps.quota && size > caps.quota.bytes) throw caps.quota.error();
  };
  const chunks = (async function* () {
    count(first.length);
    yield first;
    if (ended) return;
    for (;;) {
      const next = await it.next();
      if (next.done) return;
      count(next.value.length);
      yield next.value;
    }
  })();
  return { type, chunks, size: () => size };
}

export function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** An async iterable over a byte stream's chunks. */
export async function* chunksOf(
  stream: ReadableStream<Uint8Array>,
): AsyncGenerator<Uint8Array, void, undefined> {
  const reader = stream.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return;
      yield value;
    }
  } finally {
    reader.releaseLock();
  }
}
