// Turns the first zod issue of a generation request into one `400 invalid_request` naming the field
// (`video_urls[1]`, `model_params.shot_type`) with a message a developer can act on. zod's own messages
// ("Invalid input") are never shown: each issue code is phrased here, with the value that was sent.
import type * as z from "zod";
import { ApiError } from "../http/errors";

type Issue = z.core.$ZodIssue;
type Path = readonly PropertyKey[];

/** Field path as a client writes it: `model_params.shot_type`, `video_urls[1]`. */
export function fieldPath(path: Path): string {
  let out = "";
  for (const key of path) {
    out += typeof key === "number" ? `[${key}]` : out ? `.${String(key)}` : String(key);
  }
  return out;
}

export function invalid(param: string, message: string): ApiError {
  return new ApiError("invalid_request", message, { param });
}

/** The ApiError for `issue`; `known(path)` lists the fields accepted at that path (for typo hints). */
export function issueToError(
  issue: Issue,
  body: unknown,
  known: (path: Path) => readonly string[],
): ApiError {
  const param = fieldPath(issue.path);
  const value = valueAt(body, issue.path);
  switch (issue.code) {
    case "unrecognized_keys": {
      const key = issue.keys[0] ?? "";
      const name = fieldPath([...issue.path, key]);
      const hint = closest(key, known(issue.path));
      return invalid(
        name,
        `Unknown field "${name}"${hint ? ` (did you mean "${fieldPath([...issue.path, hint])}"?)` : ""}. ` +
          "Unknown fields are refused so that a typo cannot cost a render.",
      );
    }
    case "invalid_type":
      if (value === undefined) return invalid(param, `${param} is required`);
      return invalid(param, `${param} must be ${expected(issue.expected)}, got ${describe(value)}`);
    case "invalid_value":
      return invalid(
        param,
        `${param} must be one of ${issue.values.map(show).join(", ")}, got ${describe(value)}`,
      );
    case "too_small":
    case "too_big": {
      const limit = issue.code === "too_small" ? issue.minimum : issue.maximum;
      const bound = `${issue.code === "too_small" ? "at least" : "at most"} ${String(limit)}`;
      if (Array.isArray(value)) {
        return invalid(param, `${param} must hold ${bound} item(s), got ${value.length}`);
      }
      return invalid(param, `${param} must be ${bound}, got ${describe(value)}`);
    }
    default:
      // Custom checks carry a full sentence already.
      return invalid(param, issue.message);
  }
}

function expected(type: string): string {
  switch (type) {
    case "int":
      return "an integer";
    case "boolean":
      return "a boolean (true or false)";
    case "array":
    case "object":
      return `an ${type}`;
    default:
      return `a ${type}`;
  }
}

/** A sent value as a short phrase: `a string ("5")`, `5.5`, `null`, `an object`. */
export function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  switch (typeof value) {
    case "string":
      return `a string (${show(value.length > 40 ? `${value.slice(0, 40)}…` : value)})`;
    case "number":
    case "boolean":
      return String(value);
    case "object":
      return "an object";
    default:
      return typeof value;
  }
}

function show(value: unknown): string {
  return typeof value === "string" ? JSON.stringify(value) : String(value);
}

function valueAt(root: unknown, path: Path): unknown {
  let node = root;
  for (const key of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<PropertyKey, unknown>)[key];
  }
  return node;
}

/** The known field within edit distance 2 of `key`, if any. */
function closest(key: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = 3;
  for (const c of candidates) {
    const d = editDistance(key.toLowerCase(), c);
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row[j] = Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}
