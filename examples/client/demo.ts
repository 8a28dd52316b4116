// Runs the typed client against a local gateway (`npm start` in another terminal, then `npm run example`):
// mints a token for the demo tenant, lists the models, creates a task, waits for it, lists the tasks.
// Point it elsewhere with REELGATE_URL, TENANT_ISSUER, TENANT_AUDIENCE and TENANT_HS256_SECRET.
import { createReelgateClient, waitForTask } from "./reelgate.ts";
import { mintHs256 } from "./tokens.ts";

const baseUrl = process.env.REELGATE_URL ?? "http://127.0.0.1:8787";
const claims = {
  issuer: process.env.TENANT_ISSUER ?? "https://demo.reelgate.local/",
  audience: process.env.TENANT_AUDIENCE ?? "reelgate",
  sub: process.env.TENANT_SUB ?? "example-user",
};
const secret = process.env.TENANT_HS256_SECRET ?? "demo-tenant-hs256-secret-0123456789abcdef";

const client = createReelgateClient({ baseUrl, token: () => mintHs256(secret, claims) });

const models = await client.GET("/v1/models");
if (models.error)
  throw new Error(`GET /v1/models: ${models.error.error.code}: ${models.error.error.message}`);
console.log(
  "models:",
  models.data.data.map((m) => `${m.id} (${m.pricing.credits_per_second} credits/s)`).join(", "),
);

const created = await client.POST("/v1/videos/generations", {
  body: {
    model: "wan2.6-reference-video-flash",
    prompt: "A person dancing in the rain",
    video_urls: ["https://cdn.example.com/reference.mp4"],
    duration: 5,
  },
  headers: { "Idempotency-Key": `example-${Date.now()}` },
});
if (created.error) throw new Error(`create: ${created.error.error.code}: ${created.error.error.message}`);
console.log(`created ${created.data.id} (${created.data.usage?.credits_reserved} credits held)`);

const ended = await waitForTask(client, created.data.id, { intervalMs: 2_000, timeoutMs: 120_000 });
console.log(`${ended.id}: ${ended.status}`, ended.results ?? ended.error ?? "");

const list = await client.GET("/v1/tasks", { params: { query: { page_size: 5 } } });
if (list.error) throw new Error(`list: ${list.error.error.code}`);
console.log(`${list.data.total} tasks; newest:`, list.data.data.map((t) => `${t.id} ${t.status}`).join(", "));
