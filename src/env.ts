// The Worker's bindings, vars and secrets, typed once: what `wrangler types` generates from wrangler.jsonc
// (src/worker-configuration.d.ts, never edited by hand) plus the optional settings declared in
// src/worker-env.d.ts. Hono's per-request views build on it: src/http/context.ts, src/auth/principal.ts.
export type Env = Cloudflare.Env;
