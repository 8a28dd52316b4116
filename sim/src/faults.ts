// Fault injection: the JSON a test (or POST /__sim/faults) sends to make the simulator misbehave the way the
// real upstream can. Parsed strictly so a typo in a test fails loudly instead of silently injecting nothing.
import type { Endpoint } from "./errors";
import type { Faults, FaultStatus, MediaBreak, Outcome, StatusFault } from "./types";

const STATUSES: readonly FaultStatus[] = [401, 402, 403, 429, 500, 503];
const OUTCOMES: readonly Outcome[] = ["completed", "failed", "cancelled"];
const BOOLEAN_KEYS = ["hangCreate", "hangQuery", "dropCallbacks", "hangFiles", "hangMedia"] as const;
const DELAY_KEYS = [
  "createDelayMs",
  "createAnswerDelayMs",
  "queryDelayMs",
  "filesDelayMs",
  "mediaDelayMs",
] as const;
const STATUS_KEYS = ["create", "query", "files", "media"];
const KEYS = new Set<string>([...STATUS_KEYS, "mediaBreak", "nextOutcome", ...BOOLEAN_KEYS, ...DELAY_KEYS]);

/** Validates a faults object; throws an Error naming the first problem. `null` values clear a fault. */
export function parseFaults(input: unknown): Partial<Record<keyof Faults, unknown>> {
  if (typeof input !== "object" || input === null || Array.isArray(input))
    throw new Error("faults must be an object");
  const faults = input as Record<string, unknown>;
  for (const [key, value] of Object.entries(faults)) {
    if (!KEYS.has(key)) throw new Error(`unknown fault ${key}`);
    if (value === null || value === undefined) continue;
    if (STATUS_KEYS.includes(key)) checkStatusFault(key, value);
    else if (key === "mediaBreak") checkMediaBreak(value);
    else if (key === "nextOutcome" && !OUTCOMES.includes(value as Outcome))
      throw new Error(`nextOutcome must be one of ${OUTCOMES.join(", ")}`);
    else if ((BOOLEAN_KEYS as readonly string[]).includes(key) && typeof value !== "boolean")
      throw new Error(`${key} must be a boolean`);
    else if ((DELAY_KEYS as readonly string[]).includes(key) && !isNonNegative(value))
      throw new Error(`${key} must be a non-negative number`);
  }
  return faults;
}

function checkStatusFault(key: string, value: unknown): void {
  if (typeof value !== "object" || value === null) throw new Error(`${key} must be an object`);
  const { status, count, retryAfterSeconds, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra) throw new Error(`unknown field ${key}.${extra}`);
  if (!STATUSES.includes(status as FaultStatus))
    throw new Error(`${key}.status must be one of ${STATUSES.join(", ")}`);
  if (count !== undefined && !(Number.isInteger(count) && (count as number) >= 1))
    throw new Error(`${key}.count must be a positive integer`);
  if (retryAfterSeconds !== undefined && !isNonNegative(retryAfterSeconds))
    throw new Error(`${key}.retryAfterSeconds must be a non-negative number`);
}

function checkMediaBreak(value: unknown): void {
  if (typeof value !== "object" || value === null) throw new Error("mediaBreak must be an object");
  const { afterBytes, count, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest)[0];
  if (extra) throw new Error(`unknown field mediaBreak.${extra}`);
  if (!(Number.isSafeInteger(afterBytes) && (afterBytes as number) >= 0))
    throw new Error("mediaBreak.afterBytes must be a non-negative integer");
  if (count !== undefined && !(Number.isInteger(count) && (count as number) >= 1))
    throw new Error("mediaBreak.count must be a positive integer");
}

function isNonNegative(v: unknown): boolean {
  return typeof v === "number" && Number.isFinite(v) && v >= 0;
}

/** `current` with `update` applied: set keys replace, null/undefined keys clear. */
export function mergeFaults(current: Faults, update: Partial<Record<keyof Faults, unknown>>): Faults {
  const next: Record<string, unknown> = { ...current };
  for (const [key, value] of Object.entries(update)) {
    if (value === null || value === undefined) delete next[key];
    else next[key] = typeof value === "object" ? { ...value } : value;
  }
  return next as Faults;
}

/** Takes one use of the status fault of `endpoint`, if any; clears it when its count runs out. */
export function takeStatusFault(
  faults: Faults,
  endpoint: Endpoint | "files" | "media",
): StatusFault | undefined {
  const fault = faults[endpoint];
  if (!fault) return undefined;
  if (fault.count !== undefined) {
    fault.count -= 1;
    if (fault.count <= 0) delete faults[endpoint];
  }
  return fault;
}

/** Takes one use of the mediaBreak fault, if any: the bytes after which the body is cut. */
export function takeMediaBreak(faults: Faults): number | undefined {
  const fault: MediaBreak | undefined = faults.mediaBreak;
  if (!fault) return undefined;
  if (fault.count !== undefined) {
    fault.count -= 1;
    if (fault.count <= 0) delete faults.mediaBreak;
  }
  return fault.afterBytes;
}
