// The slots of open streams (src/events/leases.ts), kept in the tenant object's memory: a slot whose stream
// never gave it back (its Worker died) frees itself when its lease ends; the wait a refusal names is the
// soonest lease end in its scope, capped.
import { describe, expect, it } from "vitest";
import { StreamLeases } from "../../src/events/leases";

const request = (stream: string, sub: string | null) => ({
  stream,
  sub,
  tenantMax: 3,
  userMax: 2,
  lifeMs: 60_000,
});

describe("StreamLeases", () => {
  it("frees a slot that was never given back once its lease ends", () => {
    const leases = new StreamLeases();
    expect(leases.take(request("a", "alice"), 0, 30)).toEqual({ granted: true, open: 1 });
    expect(leases.take(request("b", "alice"), 1_000, 30)).toEqual({ granted: true, open: 2 });
    expect(leases.take(request("c", "alice"), 2_000, 30)).toEqual({
      granted: false,
      scope: "user",
      max: 2,
      retryAfterS: 30, // 58 s until the first lease ends, capped
    });
    expect(leases.take(request("c", "alice"), 45_000, 30)).toMatchObject({ retryAfterS: 15 });
    expect(leases.take(request("c", "alice"), 60_000, 30)).toEqual({ granted: true, open: 2 });
  });

  it("counts every user against the tenant, and a stream without sub against the tenant only", () => {
    const leases = new StreamLeases();
    expect(leases.take(request("a", null), 0, 30)).toMatchObject({ granted: true });
    expect(leases.take(request("b", null), 0, 30)).toMatchObject({ granted: true });
    expect(leases.take(request("c", "bob"), 0, 30)).toMatchObject({ granted: true, open: 3 });
    expect(leases.take(request("d", "bob"), 0, 30)).toMatchObject({ granted: false, scope: "tenant" });
    leases.release("a");
    expect(leases.take(request("d", "bob"), 0, 30)).toMatchObject({ granted: true });
  });
});
