// The create RPC hands errors back as plain data (an ApiError loses its class over RPC): the Worker must
// rebuild the same error — code, status, message, headers, details, param — from what survives a clone.
import { describe, expect, it } from "vitest";
import { ApiError, errorResponse } from "../../src/http/errors";
import { apiErrorFrom, errorData } from "../../src/generations/create-rpc";

describe("create RPC error data", () => {
  it("rebuilds the same ApiError after a structured clone", async () => {
    const original = new ApiError("upstream_rate_limited", "slow down", {
      headers: { "Retry-After": "42" },
      details: { limit: "requests_per_minute" },
      param: "prompt",
      status: 503,
    });
    const rebuilt = apiErrorFrom(structuredClone(errorData(original)));
    expect(rebuilt).toBeInstanceOf(ApiError);
    expect(rebuilt.status).toBe(503);
    expect(rebuilt.toJSON()).toEqual(original.toJSON());
    const [a, b] = [errorResponse(original, "rid"), errorResponse(rebuilt, "rid")];
    expect(b.status).toBe(a.status);
    expect([...b.headers]).toEqual([...a.headers]);
    expect(await b.text()).toBe(await a.text());
  });

  it("keeps an error without options as it was", () => {
    const original = new ApiError("upstream_error", "The video service failed to handle the request");
    const rebuilt = apiErrorFrom(structuredClone(errorData(original)));
    expect(rebuilt.toJSON()).toEqual(original.toJSON());
    expect(rebuilt.headers).toEqual({});
    expect(rebuilt.param).toBeUndefined();
  });
});
