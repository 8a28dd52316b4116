// The test internet is as strict as the platform it stands in for: an attempt to a host with no route is
// recorded (so "never called" assertions can fail), and redirects are followed unless the caller said
// `redirect: "manual"` — each hop recorded — so code that forgets "manual" is caught.
import { describe, expect, it } from "vitest";
import { callsTo, route } from "./outbound";

describe("the outbound fake", () => {
  it("records a call to an unrouted host, then fails it like a network error", async () => {
    await expect(fetch("http://169.254.169.254/latest/meta-data")).rejects.toThrow(TypeError);
    expect(callsTo("169.254.169.254")).toHaveLength(1);
    expect(callsTo()).toHaveLength(1);
  });

  it("follows redirects by default, recording each hop, and not with redirect: manual", async () => {
    route(
      "a.example",
      () => new Response(null, { status: 302, headers: { location: "https://b.example/x" } }),
    );
    route("b.example", () => new Response("here"));
    const followed = await fetch("https://a.example/start");
    expect(await followed.text()).toBe("here");
    expect(callsTo().map((c) => c.url)).toEqual(["https://a.example/start", "https://b.example/x"]);

    const manual = await fetch("https://a.example/start", { redirect: "manual" });
    expect(manual.status).toBe(302);
    expect(callsTo("b.example")).toHaveLength(1);
  });

  it("turns a POST into a GET on 303, repeats it on 307, and gives up after 20 hops", async () => {
    const moves: Record<string, [number, string]> = {
      "/see-other": [303, "/done"],
      "/temporary": [307, "/done"],
      "/loop": [302, "/loop"],
    };
    route("a.example", async (req) => {
      const move = moves[new URL(req.url).pathname];
      if (move) return new Response(null, { status: move[0], headers: { location: move[1] } });
      return new Response(`${req.method} ${await req.text()}`);
    });
    const post = { method: "POST", body: "x" };
    expect(await (await fetch("https://a.example/see-other", post)).text()).toBe("GET ");
    expect(await (await fetch("https://a.example/temporary", post)).text()).toBe("POST x");
    await expect(fetch("https://a.example/loop")).rejects.toThrow(/too many redirects/);
    expect(callsTo().filter((c) => c.url.endsWith("/loop"))).toHaveLength(21);
  });
});
