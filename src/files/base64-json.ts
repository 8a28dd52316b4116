// The JSON body of `upload/base64`, read as it streams: `{"base64_data": "data:…;base64,…" | "…", …}` with
// the file decoded chunk by chunk from inside the string, so a 100 MB file (133 MB of base64) never sits in
// memory. The other members are short strings, read whole; anything but that object shape is a 400, and so
// is more than FILE_JSON_OVERHEAD_BYTES of anything that is not the file (whitespace included).
import { FILE_JSON_OVERHEAD_BYTES } from "../config/constants";
import { ApiError } from "../http/errors";
import { concat } from "./limits";
import { chunkReader } from "./multipart";
import { checkField } from "./sources";
import type { Fields, Source } from "./upload";

const MAX_FIELD_BYTES = 1024;
/** Everything in the body but base64_data's value: the same allowance the route's Content-Length check gives. */
const MAX_OVERHEAD_BYTES = FILE_JSON_OVERHEAD_BYTES;
const MAX_MEMBERS = 16;
const DATA_URL = /^data:([a-z0-9.+-]+\/[a-z0-9.+-]+)?((?:;[a-z0-9-]+=[^;,]*)*);base64,$/i;
const FIELD_KEYS: Record<string, keyof Fields> = {
  upload_path: "uploadPath",
  uploadPath: "uploadPath",
  file_name: "fileName",
  fileName: "fileName",
};
const Q = 0x22; // "
const BACKSLASH = 0x5c;

function invalid(message: string, param?: string): ApiError {
  return new ApiError("invalid_request", message, param ? { param } : {});
}
const notJson = () => invalid("Request body is not valid JSON");
const notBase64 = () => invalid("base64_data must be base64 (or a data: URL with ;base64,)", "base64_data");

const isWs = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

/**
 * The body as it arrives. Everything but base64_data's value (whitespace, names, the other members, the data
 * URL prefix) counts toward MAX_OVERHEAD_BYTES, and runs of it are scanned a chunk at a time, so a client
 * cannot make the upload spin on padding while it holds a file slot.
 */
class Cursor {
  private buf: Uint8Array = new Uint8Array(0);
  private pos = 0;
  private ended = false;
  private overhead = 0;
  constructor(private readonly read: () => Promise<Uint8Array | null>) {}

  /** True once a byte is available at `pos`; false at the end of the body. */
  private async fill(): Promise<boolean> {
    while (this.pos >= this.buf.length) {
      const chunk = this.ended ? null : await this.read();
      if (chunk === null) {
        this.ended = true;
        return false;
      }
      this.buf = chunk;
      this.pos = 0;
    }
    return true;
  }

  /** The next byte without consuming it, -1 at the end. */
  async peek(): Promise<number> {
    return (await this.fill()) ? this.buf[this.pos]! : -1;
  }

  async next(): Promise<number> {
    const b = await this.peek();
    if (b !== -1) this.advance(1);
    return b;
  }

  /** Consumes `n` bytes that are not base64 data. */
  advance(n: number): void {
    this.pos += n;
    this.overhead += n;
    if (this.overhead > MAX_OVERHEAD_BYTES)
      throw invalid(`The body around base64_data's value must be at most ${MAX_OVERHEAD_BYTES} bytes`);
  }

  /** What is left of the current chunk (valid until the next read), or null at the end. */
  async segment(): Promise<Uint8Array | null> {
    return (await this.fill()) ? this.buf.subarray(this.pos) : null;
  }

  /** Consumes `n` bytes of base64_data's value (the file itself: capped by the upload's size limit). */
  advanceData(n: number): void {
    this.pos += n;
  }

  async ws(): Promise<void> {
    while (await this.fill()) {
      let end = this.pos;
      while (end < this.buf.length && isWs(this.buf[end]!)) end++;
      const more = end === this.buf.length;
      this.advance(end - this.pos);
      if (!more) return;
    }
  }

  async expect(byte: number): Promise<void> {
    if ((await this.next()) !== byte) throw notJson();
  }

  /** A whole JSON string of at most `max` bytes (the opening quote not yet read). */
  async string(max: number, name: string): Promise<string> {
    if ((await this.peek()) !== Q) throw invalid(`${name} must be a string`, name);
    this.advance(1);
    const parts: Uint8Array[] = [];
    let length = 0;
    for (let escaped = false, closed = false; !closed;) {
      if (!(await this.fill())) throw notJson();
      // Scan no further than one byte past the limit: that byte is enough to refuse.
      const stop = Math.min(this.buf.length, this.pos + max - length + 1);
      let end = this.pos;
      for (; end < stop; end++) {
        const b = this.buf[end]!;
        if (b === Q && !escaped) break;
        escaped = b === BACKSLASH && !escaped;
      }
      closed = end < stop;
      length += end - this.pos;
      if (length > max) throw invalid(`${name} must be at most ${max} bytes`, name);
      parts.push(this.buf.slice(this.pos, end));
      this.advance(end - this.pos + (closed ? 1 : 0));
    }
    try {
      return JSON.parse(
        `"${new TextDecoder("utf-8", { fatal: true, ignoreBOM: false }).decode(concat(parts))}"`,
      ) as string;
    } catch {
      throw notJson();
    }
  }
}

/** Opens the upload: the fields before `base64_data`, its decoded bytes, and a reader for the rest. */
export async function openBase64Json(body: ReadableStream<Uint8Array> | null): Promise<Source> {
  if (!body) throw invalid("Request body is empty; send a JSON object");
  const cur = new Cursor(chunkReader(body));
  const fields: Fields = {};
  await cur.ws();
  await cur.expect(0x7b); // {
  if (!(await members(cur, fields, true))) throw invalid("base64_data is required", "base64_data");
  const declaredType = await dataUrlType(cur);
  return {
    declaredType: declaredType.type,
    chunks: decode(cur, declaredType.carry),
    fields,
    trailing: async () => {
      const after: Fields = {};
      if (await members(cur, after, false)) throw invalid("base64_data is given twice", "base64_data");
      return after;
    },
  };
}

/**
 * Reads members until `base64_data`'s value begins (true; the cursor is on its opening quote, consumed) or
 * the object ends (false; then nothing but whitespace may follow).
 */
async function members(cur: Cursor, into: Fields, first: boolean): Promise<boolean> {
  for (let count = 0; ; count++) {
    if (count > MAX_MEMBERS) throw invalid(`The body has more than ${MAX_MEMBERS} fields`);
    await cur.ws();
    const b = await cur.peek();
    if (b === 0x7d) {
      cur.advance(1);
      await cur.ws();
      if ((await cur.peek()) !== -1) throw notJson();
      return false;
    }
    if (!first) {
      await cur.expect(0x2c); // ,
      await cur.ws();
    }
    first = false;
    const key = await cur.string(64, "field name");
    await cur.ws();
    await cur.expect(0x3a); // :
    await cur.ws();
    if (key === "base64_data") {
      if ((await cur.peek()) !== Q) throw invalid("base64_data must be a string", "base64_data");
      cur.advance(1);
      return true;
    }
    const target = FIELD_KEYS[key];
    if (!target)
      throw invalid(
        `Unknown field "${key.slice(0, 64)}" (accepted: base64_data, upload_path, file_name)`,
        key.slice(0, 64),
      );
    into[target] = checkField(key, await cur.string(MAX_FIELD_BYTES, key));
  }
}

/** Reads a `data:<type>;base64,` prefix if there is one; otherwise hands back the characters it looked at. */
async function dataUrlType(cur: Cursor): Promise<{ type: string | null; carry: string }> {
  let seen = "";
  while (seen.length < 5) {
    const b = await cur.peek();
    if (b === -1 || b === Q || b === BACKSLASH) return { type: null, carry: seen };
    seen += String.fromCharCode(b);
    cur.advance(1);
    if (!"data:".startsWith(seen.toLowerCase())) return { type: null, carry: seen };
  }
  while (seen.length < 256) {
    const b = await cur.next();
    if (b === -1 || b === Q) throw notBase64();
    seen += String.fromCharCode(b);
    if (b === 0x2c) {
      const m = DATA_URL.exec(seen.replace(/\\\//g, "/"));
      if (!m) throw notBase64();
      return { type: m[1] ?? null, carry: "" };
    }
  }
  throw notBase64();
}

/** The string's base64 decoded in whole quanta as it arrives; the closing quote ends it. */
async function* decode(cur: Cursor, carried: string): AsyncGenerator<Uint8Array, void, undefined> {
  let carry = carried;
  let pendingEscape = false;
  let padded = false; // "=" ended a quantum: nothing may follow
  for (;;) {
    const seg = await cur.segment();
    if (seg === null) throw notJson();
    const end = seg.indexOf(Q);
    const part = end === -1 ? seg : seg.subarray(0, end);
    cur.advanceData(part.length + (end === -1 ? 0 : 1));
    let text = latin1(part);
    if (pendingEscape) text = `\\${text}`;
    pendingEscape = text.endsWith("\\") && !text.endsWith("\\\\");
    if (pendingEscape) text = text.slice(0, -1);
    // JSON may escape "/" as "\/"; no other escape belongs in base64 (an escaped quote included).
    text = carry + text.replace(/\\\//g, "/");
    if (!/^[A-Za-z0-9+/=]*$/.test(text)) throw notBase64();
    const last = end !== -1;
    if (last && pendingEscape) throw notBase64();
    const usable = last ? text.length : text.length - (text.length % 4);
    carry = text.slice(usable);
    if (usable > 0) {
      if (padded) throw notBase64();
      const quanta = text.slice(0, usable);
      padded = quanta.endsWith("=");
      yield bytesOf(quanta);
    }
    if (last) return;
  }
}

function latin1(bytes: Uint8Array): string {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192)
    s += String.fromCharCode(...bytes.subarray(i, Math.min(i + 8192, bytes.length)));
  return s;
}

function bytesOf(b64: string): Uint8Array {
  if (b64.length % 4 === 1 || /=[^=]/.test(b64)) throw notBase64();
  let bin: string;
  try {
    bin = atob(b64);
  } catch {
    throw notBase64();
  }
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}
