// Standard Webhooks signing, checked against the reference `standardwebhooks` library: what it signs, it
// verifies; both secrets sign during a rotation window and only the current one after it.
import { Webhook } from "standardwebhooks";
import { describe, expect, it } from "vitest";
import { signOne, signingSecrets, webhookHeaders } from "../../src/callbacks/signature";
import { generateWebhookSecret } from "../../src/tenants/view";

const body = JSON.stringify({ id: "task-unified-1-abc", status: "completed" });

describe("webhook signatures", () => {
  it("produces exactly the library's signature", async () => {
    const secret = generateWebhookSecret();
    const at = new Date(1_767_225_600_000);
    const ours = await signOne(secret, "msg_1", Math.floor(at.getTime() / 1000), body);
    expect(ours).toBe(new Webhook(secret).sign("msg_1", at, body));
  });

  it("verifies with the library, and fails on any change to body, id or timestamp", async () => {
    const secret = generateWebhookSecret();
    const ts = Math.floor(Date.now() / 1000);
    const headers = await webhookHeaders([secret], "msg_2", ts, body);
    const wh = new Webhook(secret);
    expect(wh.verify(body, headers)).toEqual(JSON.parse(body));
    expect(() => wh.verify(body.replace("completed", "failed"), headers)).toThrow();
    expect(() => wh.verify(body, { ...headers, "webhook-id": "msg_3" })).toThrow();
    expect(() => wh.verify(body, { ...headers, "webhook-timestamp": String(ts + 1) })).toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, headers)).toThrow();
  });

  it("carries one space-separated signature per secret, each verifiable on its own", async () => {
    const [a, b] = [generateWebhookSecret(), generateWebhookSecret()];
    const headers = await webhookHeaders([a, b], "msg_4", Math.floor(Date.now() / 1000), body);
    expect(headers["webhook-signature"]!.split(" ")).toHaveLength(2);
    expect(new Webhook(a).verify(body, headers)).toBeTruthy();
    expect(new Webhook(b).verify(body, headers)).toBeTruthy();
  });

  it("signs with the previous secret only until its window closes", () => {
    const now = 1_767_225_600_000;
    const hook = { secret: "whsec_new", previous_secret: "whsec_old", previous_expires_at: now + 1 };
    expect(signingSecrets(hook, now)).toEqual(["whsec_new", "whsec_old"]);
    expect(signingSecrets(hook, now + 1)).toEqual(["whsec_new"]);
    expect(signingSecrets({ secret: "whsec_new" }, now)).toEqual(["whsec_new"]);
  });
});
