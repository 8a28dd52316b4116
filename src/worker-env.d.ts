// What `wrangler types` cannot see, added to the generated `Cloudflare.Env` (src/worker-configuration.d.ts):
// the secrets (set with `wrangler secret put`; not declared in wrangler.jsonc's `secrets.required`, which
// would make every `wrangler dev` and test run warn and read them from process.env), the optional settings
// that have defaults in src/config and so are not in wrangler.jsonc, and the test-only contract binding.
// src/config/env.ts validates all of them at startup: a missing secret is a 503 naming it.
declare global {
  namespace Cloudflare {
    interface Env {
      UPSTREAM_API_KEY?: string;
      ADMIN_TOKEN?: string;
      SIGNING_SECRET?: string;
      UPSTREAM_TIMEOUT_MS?: string;
      WEBHOOK_RETRY_SCHEDULE?: string;
      WEBHOOK_TIMEOUT_MS?: string;
      TASK_POLL_CACHE_MS?: string;
      QUOTA_PRICING?: string;
      /** Tests only: the upstream's OpenAPI documents keyed by file name, or null when ../shared is absent. */
      UPSTREAM_CONTRACT?: Record<string, unknown> | null;
    }
  }
}
export {};
