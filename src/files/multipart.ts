// A streaming `multipart/form-data` reader: parts come out one at a time and a part's body as chunks, so
// a 100 MB file crosses the Worker without ever being held whole (request.formData() would buffer it).
// Only the delimiter's length is kept back between chunks. Malformed input is a 400.
import { ApiError } from "../http/errors";

const CRLF = new Uint8Array([13, 10]);
const MAX_HEADER_BYTES = 8 * 1024;
const MAX_PARTS = 16;

export interface Part {
  name: string;
  filename: string | null;
  contentType: string | null;
  /** The part's bytes; must be consumed (or `drain`ed) before asking for the next part. */
  body: AsyncGenerator<Uint8Array, void, undefined>;
}

/** The boundary of a `multipart/form-data` Content-Type, or a 415 for any other type. */
export function boundaryOf(contentType: string | null): string {
  const type = (contentType ?? "").split(";")[0]!.trim().toLowerCase();
  const m = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))/i.exec(contentType ?? "");
  if (type !== "multipart/form-data" || !m)
    throw new ApiError("unsupported_media_type", "Content-Type must be multipart/form-data with a boundary");
  return (m[1] ?? m[2])!;
}

function malformed(why: string): ApiError {
  return new ApiError("invalid_request", `Malformed multipart body: ${why}`);
}

const READ_BYTES = 64 * 1024;

/**
 * Reads a byte stream chunk by chunk into ONE reused buffer when the stream allows it (a request body
 * does: a BYOB reader), so a 100 MB upload does not leave 100 MB of dead chunks for the collector. A
 * chunk is valid only until the next read; streams without BYOB support fall back to fresh chunks.
 * Each read waits for a full buffer (workerd's `readAtLeast`) unless the stream ends first: a request body arrives in
 * pieces of about 4 KB, and every chunk costs a trip through the parser's, the checks' and the backend's
 * async steps, which made the per-chunk work, not the bytes, the upload's cost (bench:upload).
 */
export function chunkReader(stream: ReadableStream<Uint8Array>): () => Promise<Uint8Array | null> {
  let byob: ReadableStreamBYOBReader | null = null;
  try {
    byob = stream.getReader({ mode: "byob" });
  } catch {
    byob = null;
  }
  if (byob) {
    const reader = byob;
    let buffer = new ArrayBuffer(READ_BYTES);
    let ended = false;
    return async () => {
      if (ended) return null;
      const { done, value } = await reader.readAtLeast(READ_BYTES, new Uint8Array(buffer));
      // A stream that ends short of `min` may hand over its last bytes together with `done`.
      if (done) ended = true;
      if (!value || value.byteLength === 0) return null;
      buffer = value.buffer as ArrayBuffer;
      return value;
    };
  }
  const reader = stream.getReader();
  return async () => {
    const { done, value } = await reader.read();
    return done ? null : value;
  };
}

class Buffered {
  buf: Uint8Array = new Uint8Array(0);
  private ended = false;
  constructor(private readonly read: () => Promise<Uint8Array | null>) {}

  /** Appends one more chunk to `buf`; false at the end of the stream. */
  async more(): Promise<boolean> {
    const kept = this.buf.slice(); // the next read may overwrite what `buf` views
    const value = await this.next();
    if (value === null) return false;
    this.buf = kept.length === 0 ? value : joined(kept, value);
    return true;
  }

  /**
   * The next chunk as it came (not appended to `buf`), or null at the end of the stream. What `buf` still
   * holds is copied first (it is never more than a delimiter's length or a part's headers).
   */
  async next(): Promise<Uint8Array | null> {
    if (this.ended) return null;
    if (this.buf.length > 0) this.buf = this.buf.slice();
    const value = await this.read();
    if (value === null) this.ended = true;
    return value;
  }

  /** Makes sure `n` bytes are buffered; false when the stream ends first. */
  async need(n: number): Promise<boolean> {
    while (this.buf.length < n) if (!(await this.more())) return false;
    return true;
  }

  take(n: number): Uint8Array {
    const out = this.buf.subarray(0, n);
    this.buf = this.buf.subarray(n);
    return out;
  }
}

function joined(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

function indexOf(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  const first = needle[0]!;
  const last = hay.length - needle.length;
  for (let i = hay.indexOf(first, from); i !== -1 && i <= last; i = hay.indexOf(first, i + 1)) {
    let j = 1;
    while (j < needle.length && hay[i + j] === needle[j]) j++;
    if (j === needle.length) return i;
  }
  return -1;
}

/** The parts of a multipart body, in order. A body chunk is valid until the next one is asked for. */
export async function* multipartParts(
  stream: ReadableStream<Uint8Array> | null,
  boundary: string,
): AsyncGenerator<Part, void, undefined> {
  if (!stream) throw malformed("the body is empty");
  const enc = new TextEncoder();
  const opening = enc.encode(`--${boundary}`);
  const delimiter = enc.encode(`\r\n--${boundary}`);
  const input = new Buffered(chunkReader(stream));
  // The preamble, up to the first delimiter.
  for (;;) {
    const at = indexOf(input.buf, opening);
    if (at !== -1) {
      input.take(at + opening.length);
      break;
    }
    if (input.buf.length > MAX_HEADER_BYTES) throw malformed("no opening boundary");
    if (!(await input.more())) throw malformed("no opening boundary");
  }
  for (let count = 0; ; count++) {
    if (!(await input.need(2))) throw malformed("truncated after a boundary");
    const after = input.take(2);
    if (after[0] === 45 && after[1] === 45) return; // "--": the closing delimiter
    if (after[0] !== CRLF[0] || after[1] !== CRLF[1]) throw malformed("bad boundary line");
    if (count >= MAX_PARTS) throw malformed(`more than ${MAX_PARTS} parts`);
    const headers = await readHeaders(input);
    const part = partOf(headers);
    let finished = false;
    const body = (async function* () {
      for (;;) {
        const at = indexOf(input.buf, delimiter);
        if (at !== -1) {
          if (at > 0) yield input.take(at);
          input.take(delimiter.length);
          finished = true;
          return;
        }
        const safe = input.buf.length - (delimiter.length - 1);
        if (safe > 0) yield input.take(safe);
        // The kept tail is shorter than the delimiter. Unless a delimiter starts in it (then it lies whole in
        // tail + the chunk's first bytes), the tail goes out as is and the chunk is scanned without a copy.
        const chunk = await input.next();
        if (chunk === null) throw malformed("the body ends inside a part");
        const tail = input.buf;
        const join = joined(tail, chunk.subarray(0, delimiter.length - 1));
        const whole = chunk.length >= delimiter.length - 1; // else a delimiter could outrun `join`
        if (tail.length > 0 && whole && indexOf(join, delimiter) === -1) {
          yield tail;
          input.buf = chunk;
        } else input.buf = joined(tail, chunk);
      }
    })();
    yield { ...part, body };
    if (!finished) for await (const _ of body); // the caller skipped (part of) the body
  }
}

async function readHeaders(input: Buffered): Promise<Map<string, string>> {
  const end = new Uint8Array([13, 10, 13, 10]);
  for (;;) {
    // A part without headers starts with CRLF right away.
    if (input.buf.length >= 2 && input.buf[0] === 13 && input.buf[1] === 10) {
      input.take(2);
      return new Map();
    }
    const at = indexOf(input.buf, end);
    if (at !== -1) {
      const text = new TextDecoder().decode(input.take(at));
      input.take(4);
      const headers = new Map<string, string>();
      for (const line of text.split("\r\n")) {
        const colon = line.indexOf(":");
        if (colon <= 0) throw malformed("bad part header");
        headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
      }
      return headers;
    }
    if (input.buf.length > MAX_HEADER_BYTES) throw malformed("part headers too long");
    if (!(await input.more())) throw malformed("truncated part headers");
  }
}

function partOf(headers: Map<string, string>): Omit<Part, "body"> {
  const disposition = headers.get("content-disposition") ?? "";
  if (!/^form-data\s*(;|$)/i.test(disposition)) throw malformed("a part is not form-data");
  const name = param(disposition, "name");
  if (name === null) throw malformed("a part has no name");
  return { name, filename: param(disposition, "filename"), contentType: headers.get("content-type") ?? null };
}

function param(header: string, key: string): string | null {
  const m = new RegExp(`;\\s*${key}=(?:"((?:[^"\\\\]|\\\\.)*)"|([^;\\s]*))`, "i").exec(header);
  if (!m) return null;
  return m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : (m[2] ?? "");
}

/** Reads a small text part whole (form fields such as `file_name`), refusing more than `max` bytes. */
export async function textOf(part: Part, max = 1024): Promise<string> {
  const chunks: Uint8Array[] = [];
  let n = 0;
  for await (const chunk of part.body) {
    n += chunk.length;
    if (n > max)
      throw new ApiError("invalid_request", `${part.name} must be at most ${max} bytes`, {
        param: part.name,
      });
    chunks.push(chunk.slice());
  }
  const all = new Uint8Array(n);
  let o = 0;
  for (const c of chunks) {
    all.set(c, o);
    o += c.length;
  }
  return new TextDecoder().decode(all);
}
