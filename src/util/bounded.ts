// Concurrency with a bound: many independent calls, at most `limit` in flight, for fan-outs over the upstream
// (a task batch's queries) that must not burst it.

/**
 * `fn` over `items`, at most `limit` calls in flight, the results in `items`' order. The first rejection
 * rejects the whole, and no call starts after it (those in flight run to their end, their results dropped).
 */
export async function mapBounded<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  if (!(limit >= 1)) throw new Error("mapBounded: limit must be at least 1");
  const out = new Array<R>(items.length);
  let next = 0;
  let failed = false;
  async function worker(): Promise<void> {
    while (!failed && next < items.length) {
      const i = next++;
      try {
        out[i] = await fn(items[i]!, i);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
