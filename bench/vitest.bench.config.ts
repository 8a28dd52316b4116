// `npm run bench:micro`: the micro-benchmarks (bench/*.bench.ts) inside workerd, like the tests, so crypto
// runs on the same runtime as in production. Vitest 5 benchmarks are tests with a `bench` fixture; this
// config matches only them, so `npm test` never runs them (its config includes test/**/*.test.ts only).
import { cloudflareTest } from "@cloudflare/vitest-plugin";
import { defineConfig } from "vitest/config";

export default defineConfig({
  plugins: [
    cloudflareTest({
      wrangler: { configPath: "./wrangler.jsonc" },
      miniflare: {
        bindings: {
          UPSTREAM_BASE_URL: "https://api.evolink.test",
          UPSTREAM_API_KEY: "sk-upstream-bench-0123456789",
          PUBLIC_BASE_URL: "https://gateway.reelgate.test",
          ADMIN_TOKEN: "admin-token-for-bench-0123456789",
          SIGNING_SECRET: "signing-secret-for-bench-0123456789abcdef",
          LOG_LEVEL: "warn",
        },
      },
    }),
  ],
  test: {
    include: [],
    // The module runner reads imports through getters (tens of ns each); against operations of microseconds
    // that is noise, so the warning about it is turned off.
    benchmark: { include: ["bench/**/*.bench.ts"], suppressExportGetterWarnings: true },
    // One file at a time: on two cores, parallel files would measure each other.
    fileParallelism: false,
    testTimeout: 120_000,
  },
});
