// Idempotency-Key on POST /v1/videos/generations, as EvoLink's own client uses it (README §4, [CODE]):
// 16–96 chars of [A-Za-z0-9._-]; the same key with the same body replays the first answer, the same key with
// a different body is a conflict. Bodies are compared as JSON, so key order does not matter.

export const IDEMPOTENCY_KEY_PATTERN = /^[A-Za-z0-9._-]{16,96}$/;

interface Stored {
  fingerprint: string;
  body: string;
}

export type Lookup = { kind: "miss" } | { kind: "replay"; body: string } | { kind: "conflict" };

export class IdempotencyStore {
  private readonly entries = new Map<string, Stored>();

  lookup(key: string, requestBody: unknown): Lookup {
    const stored = this.entries.get(key);
    if (!stored) return { kind: "miss" };
    return stored.fingerprint === fingerprint(requestBody)
      ? { kind: "replay", body: stored.body }
      : { kind: "conflict" };
  }

  save(key: string, requestBody: unknown, responseBody: string): void {
    this.entries.set(key, { fingerprint: fingerprint(requestBody), body: responseBody });
  }

  reset(): void {
    this.entries.clear();
  }
}

/** Canonical JSON: object keys sorted at every level. */
export function fingerprint(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (typeof value !== "object" || value === null) return value;
  const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  return Object.fromEntries(entries.map(([k, v]) => [k, sortKeys(v)]));
}
