// The bytes of a simulated result: an MP4-shaped file, a 32-byte `ftyp` box (major brand isom) and one
// `mdat` box whose payload fills the rest. The payload repeats a 64 KiB pattern drawn from the task id, so the
// same task always yields the same bytes and any range can be made without the bytes before it. Made as a
// pull stream, 64 KiB at a time: results of hundreds of MB are never held whole.

export const MIN_RESULT_BYTES = 40;
/** The `mdat` box's 32-bit size field bounds the file (a larger one would need the 64-bit form). */
export const MAX_RESULT_BYTES = 2 ** 32;
const CHUNK = 64 * 1024;
const PATTERN = 64 * 1024;
const FTYP = [
  [0, 0, 0, 32],
  ascii("ftyp"),
  ascii("isom"),
  [0, 0, 2, 0], // minor version 512
  ascii("isom"),
  ascii("iso2"),
  ascii("avc1"),
  ascii("mp41"),
].flat();
export const MP4_HEADER_BYTES = FTYP.length + 8;

function ascii(s: string): number[] {
  return Array.from(s, (c) => c.charCodeAt(0));
}

/** The first MP4_HEADER_BYTES of a file of `size` bytes: the ftyp box and the mdat box's header. */
export function mp4Header(size: number): Uint8Array {
  const mdat = size - FTYP.length;
  return new Uint8Array([
    ...FTYP,
    (mdat >>> 24) & 255,
    (mdat >>> 16) & 255,
    (mdat >>> 8) & 255,
    mdat & 255,
    ...ascii("mdat"),
  ]);
}

/** Twice the task's pattern, so any PATTERN-long window of the repeating payload is one subarray. */
function patternOf(taskId: string): Uint8Array {
  let seed = 0x811c9dc5; // FNV-1a of the id seeds an xorshift32
  for (let i = 0; i < taskId.length; i++) seed = Math.imul(seed ^ taskId.charCodeAt(i), 0x01000193);
  let x = seed >>> 0 || 1;
  const out = new Uint8Array(PATTERN * 2);
  const words = new Uint32Array(out.buffer, 0, PATTERN / 4);
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  out.copyWithin(PATTERN, 0, PATTERN);
  return out;
}

/**
 * Bytes [start, end) of the result of `taskId` when it is `size` bytes long, as a stream. With `breakAfter`,
 * the stream errors once that many bytes have been sent, as a connection cut mid-body does.
 */
export function mp4Stream(
  taskId: string,
  size: number,
  start = 0,
  end = size,
  breakAfter?: number,
): ReadableStream<Uint8Array> {
  const pattern = patternOf(taskId);
  const header = mp4Header(size);
  let offset = start;
  return new ReadableStream<Uint8Array>(
    {
      pull(controller) {
        const limit = breakAfter === undefined ? end : Math.min(end, start + breakAfter);
        if (offset >= limit) {
          if (offset < end) controller.error(new Error("simulated connection reset"));
          else controller.close();
          return;
        }
        const n = Math.min(CHUNK, limit - offset);
        const chunk = new Uint8Array(n);
        const at = offset % PATTERN;
        chunk.set(pattern.subarray(at, at + n));
        if (offset < header.length) chunk.set(header.subarray(offset, Math.min(header.length, offset + n)));
        offset += n;
        controller.enqueue(chunk);
      },
    },
    { highWaterMark: 0 },
  );
}
