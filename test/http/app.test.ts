import { exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

describe("app shell", () => {
  it("answers health checks with a request id", async () => {
    const res = await exports.default.fetch("https://gateway.reelgate.test/healthz");
    expect(res.status).toBe(200);
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);
  });

  it("answers unknown routes with a JSON 404 in the upstream's error shape", async () => {
    const res = await exports.default.fetch("https://gateway.reelgate.test/nope");
    expect(res.status).toBe(404);
    expect(await res.json()).toEqual({
      error: { code: "not_found", message: expect.any(String), type: "not_found_error" },
    });
  });
});
