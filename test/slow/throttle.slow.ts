// Issue 16's throttling figure: 1,000 task ends at once, with `webhook.max_per_second` 10, reach the receiver
// at ≤ 10.5/s with none lost, and never more than 11 within one second. About 100 s of delivery, so outside
// `npm test` (`npm run test:slow`).
import { describe, expect, it } from "vitest";
import { startSimulator } from "../helpers/gateway";
import { route } from "../helpers/outbound";
import { HOOK_HOST, HOOK_URL, createTask, eventually, webhookTenant } from "../callbacks/helpers";

describe("webhook.max_per_second under a burst", () => {
  it("1,000 task ends with a limit of 10/s: every one delivered, at ≤ 10.5/s", async () => {
    const { clock } = startSimulator();
    const t = await webhookTenant({ url: HOOK_URL, max_per_second: 10 });
    const at: number[] = [];
    const ids = new Set<string>();
    route(HOOK_HOST, (req) => {
      at.push(Date.now());
      ids.add(req.headers.get("webhook-id")!);
      return new Response("ok");
    });
    const n = 1_000;
    for (let i = 0; i < n; i++) await createTask(t);
    await clock.advance(6_000);
    await eventually(() => expect(ids.size).toBe(n), 300_000);
    const rate = (at.length - 1) / ((at[at.length - 1]! - at[0]!) / 1000);
    let peak = 0;
    for (const start of at) peak = Math.max(peak, at.filter((x) => x >= start && x < start + 1000).length);
    console.log(JSON.stringify({ delivered: ids.size, requests: at.length, rate, peak_per_second: peak }));
    expect(rate).toBeLessThanOrEqual(10.5);
    // Nor in any one second: 10, and one more where timing jitter puts two sends at a window's edges.
    expect(peak).toBeLessThanOrEqual(11);
  });
});
