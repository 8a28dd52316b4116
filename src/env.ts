// Bindings and per-request variables, typed once. `Env` mirrors wrangler.jsonc; `AppEnv` is hono's view.
import type { WebhookMessage } from "./callbacks/message";
import type { Config } from "./config/env";
import type { Registry } from "./tenants/registry";
import type { TenantState } from "./state/tenant-state";
import type { Tenant } from "./tenants/schema";
import type { Logger } from "./http/log";

export interface Env {
  /** Tenant records, the issuer index, usage ledgers (see docs/storage-schema.md). */
  KV: KVNamespace;
  /** One Durable Object per tenant: tasks, quota counters, idempotency keys. */
  TENANT_STATE: DurableObjectNamespace<TenantState>;
  /** A single Durable Object that makes issuer claims atomic across tenants. */
  REGISTRY: DurableObjectNamespace<Registry>;
  /** Task-ended events on their way to tenant webhooks (src/callbacks; consumer and dead-letter queue too). */
  WEBHOOKS: Queue<WebhookMessage>;
  /** Uploaded reference files with FILES_STORE=r2 (src/files, docs/uploads.md). */
  UPLOADS?: R2Bucket;

  UPSTREAM_BASE_URL?: string;
  UPSTREAM_API_KEY?: string;
  UPSTREAM_TIMEOUT_MS?: string;
  PUBLIC_BASE_URL?: string;
  ADMIN_TOKEN?: string;
  SIGNING_SECRET?: string;
  DEV_ALLOW_LOCAL_URLS?: string;
  LOG_LEVEL?: string;
  WEBHOOK_RETRY_SCHEDULE?: string;
  WEBHOOK_TIMEOUT_MS?: string;
  QUOTA_STORE?: string;
  SWEEP_MIN_AGE_SECONDS?: string;
  QUOTA_PRICING?: string;
  FILES_BASE_URL?: string;
  FILES_STORE?: string;
  MAX_UPLOAD_BYTES?: string;
  [key: string]: unknown;
}

export interface Principal {
  tenant: Tenant;
  /** The end user (`sub`), when the token names one. */
  sub: string | undefined;
}

export interface AppEnv {
  Bindings: Env;
  Variables: {
    requestId: string;
    config: Config;
    log: Logger;
    principal: Principal;
  };
}
