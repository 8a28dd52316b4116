// Tests run inside workerd through the real Worker (src/index.ts) with local KV and Durable Objects.
// Outbound HTTP from the Worker is routed in-isolate by test/helpers/outbound.ts (the upstream simulator,
// tenant key servers, webhook receivers); anything unrouted fails loudly here.
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";
import { loadUpstreamContract } from "./scripts/contract.mjs";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.jsonc" },
      miniflare: {
        bindings: {
          UPSTREAM_BASE_URL: "https://api.evolink.test",
          UPSTREAM_API_KEY: "sk-upstream-SECRET-4f9c2e7a1b3d5f60",
          PUBLIC_BASE_URL: "https://gateway.reelgate.test",
          ADMIN_TOKEN: "admin-token-for-tests-0123456789",
          SIGNING_SECRET: "signing-secret-for-tests-0123456789abcdef",
          DEV_ALLOW_LOCAL_URLS: "false",
          LOG_LEVEL: "debug",
          UPSTREAM_TIMEOUT_MS: "1500",
          // EvoLink's files API, answered by the simulator (test/files); FILES_BACKEND=r2 is set per test.
          FILES_BASE_URL: "https://files-api.evolink.test",
          // Tests drive the simulator's clock, not the Worker's: every poll asks the upstream.
          TASK_POLL_CACHE_MS: "0",
          // Webhook retries in seconds, not hours (max_retries below matches the three entries).
          WEBHOOK_RETRY_SCHEDULE: "1,1,1",
          WEBHOOK_TIMEOUT_MS: "1000",
          // The operator's events go to a receiver every test has (test/helpers/setup.ts routes its host).
          OPERATOR_WEBHOOK_URL: "https://ops.reelgate.test/events",
          OPERATOR_WEBHOOK_SECRET: "whsec_b3BlcmF0b3Itd2ViaG9vay1zZWNyZXQtZm9yLXRlc3Rz",
          // The upstream's OpenAPI files, when ../shared/upstream exists (null otherwise: contract tests skip).
          UPSTREAM_CONTRACT: loadUpstreamContract(),
        },
        // Deliver queued webhooks at once; retries and dead-lettering as in production, faster.
        queueConsumers: {
          "reelgate-webhooks": {
            maxBatchSize: 10,
            maxBatchTimeout: 0,
            maxRetries: 3,
            deadLetterQueue: "reelgate-webhooks-dlq",
          },
          "reelgate-webhooks-dlq": { maxBatchSize: 10, maxBatchTimeout: 0, maxRetries: 3 },
        },
        outboundService: (request: Request) =>
          new Response(`test outbound request escaped the in-isolate router: ${request.url}`, {
            status: 599,
          }),
      },
    }),
  ],
  test: {
    include: ["test/**/*.test.ts"],
    // public/ (the static assets the ASSETS binding serves) is built first, from the sources as they are
    // now: a fresh clone needs no build step of its own, and a stale public/ is never what is tested.
    globalSetup: ["./scripts/build-assets.mjs"],
    // Logs (every level, all swept for the upstream key) are shown only for failing tests.
    silent: "passed-only",
    setupFiles: ["./test/helpers/setup.ts"],
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
