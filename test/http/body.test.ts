// readJsonBody: the media type, the size limit enforced while streaming (with and without an honest
// Content-Length), and the 400s for bodies that are empty, not UTF-8 or not JSON.
import { describe, expect, it } from "vitest";
import { MAX_BODY_BYTES } from "../../src/config/constants";
import { readJsonBody } from "../../src/http/body";
import { ApiError } from "../../src/http/errors";

const URL_ = "https://gateway.reelgate.test/v1/videos/generations";
const JSON_TYPE = { "content-type": "application/json" };

function post(body: BodyInit | null, headers: Record<string, string> = JSON_TYPE): Request {
  return new Request(URL_, { method: "POST", headers, body });
}

/** The ApiError `promise` rejects with (fails the test if it resolves or throws something else). */
async function rejection(promise: Promise<unknown>): Promise<ApiError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ApiError);
  return err as ApiError;
}

/** A body stream with no Content-Length that yields `chunk` up to `times` times, counting reads. */
function stream(chunk: Uint8Array, times: number) {
  const stats = { pulled: 0, cancelled: false };
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (stats.pulled++ >= times) controller.close();
      else controller.enqueue(chunk);
    },
    cancel() {
      stats.cancelled = true;
    },
  });
  return { body, stats };
}

describe("media type", () => {
  it.each([
    "application/json",
    "application/json; charset=utf-8",
    "application/json;charset=UTF-8",
    'application/json; charset="utf-8"',
    "Application/JSON",
  ])("accepts %s", async (type) => {
    await expect(readJsonBody(post('{"a":1}', { "content-type": type }), MAX_BODY_BYTES)).resolves.toEqual({
      a: 1,
    });
  });

  it.each([
    "text/plain",
    "application/x-www-form-urlencoded",
    "multipart/form-data; boundary=x",
    "application/json-patch+json",
    "text/json",
    "application/json; charset=iso-8859-1",
    "application/jsonp",
  ])("refuses %s with 415", async (type) => {
    const err = await rejection(readJsonBody(post('{"a":1}', { "content-type": type }), MAX_BODY_BYTES));
    expect(err.code).toBe("unsupported_media_type");
    expect(err.status).toBe(415);
    expect(err.message).toContain("Content-Type must be application/json");
  });

  it("refuses a missing Content-Type with 415", async () => {
    const req = new Request(URL_, { method: "POST", body: new Blob(['{"a":1}']) });
    expect(req.headers.get("content-type")).toBeNull();
    const err = await rejection(readJsonBody(req, MAX_BODY_BYTES));
    expect(err.status).toBe(415);
    expect(err.message).toContain("(got none)");
  });
});

describe("size limit", () => {
  const padded = (bytes: number) => `{"p":"${"x".repeat(bytes - 8)}"}`;

  it("accepts a body of exactly the limit and refuses one byte more", async () => {
    expect(padded(MAX_BODY_BYTES).length).toBe(MAX_BODY_BYTES);
    await expect(readJsonBody(post(padded(MAX_BODY_BYTES)), MAX_BODY_BYTES)).resolves.toHaveProperty("p");
    const err = await rejection(readJsonBody(post(padded(MAX_BODY_BYTES + 1)), MAX_BODY_BYTES));
    expect(err.code).toBe("payload_too_large");
    expect(err.status).toBe(413);
    expect(err.message).toBe("Request body must be at most 65536 bytes");
  });

  it("refuses on a declared Content-Length above the limit without reading the body", async () => {
    const { body, stats } = stream(new Uint8Array(10), 1);
    const req = post(body, { ...JSON_TYPE, "content-length": String(MAX_BODY_BYTES + 1) });
    expect(req.headers.get("content-length")).toBe(String(MAX_BODY_BYTES + 1));
    const err = await rejection(readJsonBody(req, MAX_BODY_BYTES));
    expect(err.status).toBe(413);
    expect(stats.pulled).toBeLessThanOrEqual(1); // the stream may prime itself, but is never drained
  });

  it("enforces the limit while streaming a body without Content-Length, and stops reading", async () => {
    const { body, stats } = stream(new Uint8Array(16 * 1024).fill(0x20), 1_000_000);
    const req = post(body);
    expect(req.headers.get("content-length")).toBeNull();
    const err = await rejection(readJsonBody(req, MAX_BODY_BYTES));
    expect(err.status).toBe(413);
    expect(stats.pulled).toBeLessThan(10);
    expect(stats.cancelled).toBe(true);
  });

  it("does not trust a Content-Length that understates the body", async () => {
    const { body } = stream(new Uint8Array(16 * 1024).fill(0x20), 5);
    const req = post(body, { ...JSON_TYPE, "content-length": "2" });
    expect(req.headers.get("content-length")).toBe("2");
    const err = await rejection(readJsonBody(req, MAX_BODY_BYTES));
    expect(err.status).toBe(413);
  });

  it("reads a streamed body under the limit in full", async () => {
    const json = new TextEncoder().encode('{"prompt":"a cat","n":[1,2,3]}');
    const { body } = stream(json, 1);
    await expect(readJsonBody(post(body), MAX_BODY_BYTES)).resolves.toEqual({
      prompt: "a cat",
      n: [1, 2, 3],
    });
  });

  it("counts bytes, not characters", async () => {
    const body = `{"p":"${"é".repeat(40)}"}`; // 48 characters, 88 bytes
    await expect(readJsonBody(post(body), 88)).resolves.toHaveProperty("p");
    expect((await rejection(readJsonBody(post(body), 87))).status).toBe(413);
  });
});

describe("content", () => {
  it.each([
    ["an empty body", "", "Request body is empty; send a JSON object"],
    ["truncated JSON", '{"model":', "Request body is not valid JSON"],
    ["a JavaScript object literal", "{model: 'x'}", "Request body is not valid JSON"],
    ["two documents", '{"a":1}{"b":2}', "Request body is not valid JSON"],
  ])("refuses %s with 400 invalid_request", async (_, body, message) => {
    const err = await rejection(readJsonBody(post(body), MAX_BODY_BYTES));
    expect(err.code).toBe("invalid_request");
    expect(err.status).toBe(400);
    expect(err.message).toBe(message);
  });

  it("refuses a request without a body", async () => {
    const req = new Request(URL_, { method: "POST", headers: JSON_TYPE });
    expect((await rejection(readJsonBody(req, MAX_BODY_BYTES))).message).toBe(
      "Request body is empty; send a JSON object",
    );
  });

  it("refuses bytes that are not UTF-8", async () => {
    const bytes = new Uint8Array([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]); // {"a":"\xff\xfe"}
    const err = await rejection(readJsonBody(post(bytes), MAX_BODY_BYTES));
    expect(err.status).toBe(400);
    expect(err.message).toBe("Request body is not valid UTF-8");
  });

  it("does not echo the body in the JSON error", async () => {
    const err = await rejection(readJsonBody(post('{"video_urls":["https://x/?sig=SECRET"'), MAX_BODY_BYTES));
    expect(err.message).not.toContain("SECRET");
  });

  it("returns any JSON value, leaving shape checks to the caller", async () => {
    await expect(readJsonBody(post("[1,2]"), MAX_BODY_BYTES)).resolves.toEqual([1, 2]);
    await expect(readJsonBody(post("null"), MAX_BODY_BYTES)).resolves.toBeNull();
    await expect(readJsonBody(post('\ufeff{"a":"🎬"}'), MAX_BODY_BYTES)).resolves.toEqual({ a: "🎬" });
  });
});
