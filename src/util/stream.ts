// Reading a body with a byte cap (and optionally a deadline), shared by everything that reads bytes it does
// not control: client request bodies, key-server answers, upstream answers.

/**
 * All of `body`, or null as soon as more than `maxBytes` have arrived (the rest is never read). With a
 * `signal`, a body that trickles in forever still ends: the read rejects with the signal's reason.
 */
export async function readBytesCapped(
  body: ReadableStream<Uint8Array> | null,
  maxBytes: number,
  signal?: AbortSignal,
): Promise<Uint8Array | null> {
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const deadline = signal ? rejectOnAbort(signal) : undefined;
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const read = deadline ? Promise.race([reader.read(), deadline]) : reader.read();
    const { done, value } = await read.catch(async (err: unknown) => {
      await reader.cancel().catch(() => {});
      throw err;
    });
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      return null;
    }
    chunks.push(value);
  }
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

/** Settles only by rejecting, when `signal` aborts. */
function rejectOnAbort(signal: AbortSignal): Promise<never> {
  const aborted = new Promise<never>((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener("abort", () => reject(signal.reason), { once: true });
  });
  aborted.catch(() => {}); // only observed through Promise.race; never an unhandled rejection
  return aborted;
}
