// Every limit, TTL and timeout of the gateway as a named constant, so a reader finds them in one place.
// Operator-tunable values live in `config/env.ts`; these are fixed by design or by the upstream contract.

/** Largest request body the gateway reads (generation requests are a few hundred bytes). */
export const MAX_BODY_BYTES = 64 * 1024;
/** Longest URL accepted anywhere (the upstream's own callback_url limit). */
export const MAX_URL_LENGTH = 2048;
/** Prompt length limit in Unicode code points (upstream `maxLength: 1500`). */
export const MAX_PROMPT_CODE_POINTS = 1500;

/** Clock tolerance for `exp`/`nbf`/`iat`, in seconds. */
export const JWT_CLOCK_TOLERANCE_S = 30;
/** Largest bearer token read, to bound parsing work on garbage input. */
export const MAX_TOKEN_BYTES = 8 * 1024;
/** Longest `sub` accepted: the end-user id keys per-user quotas and task ownership. */
export const MAX_SUBJECT_LENGTH = 256;

/** How long a tenant record is served from isolate memory before KV is read again. */
export const TENANT_CACHE_TTL_MS = 30_000;
/** How long a fetched JWKS is considered fresh. */
export const JWKS_FRESH_MS = 10 * 60_000;
/** A JWKS refetch on an unknown `kid` happens at most this often per tenant. */
export const JWKS_COOLDOWN_MS = 30_000;
/** Timeout of one JWKS fetch. */
export const JWKS_FETCH_TIMEOUT_MS = 3_000;
/** Largest JWKS document parsed. */
export const JWKS_MAX_BYTES = 64 * 1024;
/** How long a stale key set keeps serving while the key server is down. */
export const JWKS_MAX_STALE_MS = 24 * 60 * 60_000;
/** Tenants whose verification keys an isolate holds at once (least recently used dropped first). */
export const KEY_CACHE_MAX_TENANTS = 1_000;

/** Default timeout of one upstream call, overridable with UPSTREAM_TIMEOUT_MS. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 15_000;
/** Largest upstream response body parsed. */
export const UPSTREAM_MAX_RESPONSE_BYTES = 256 * 1024;

/** Gateway task id prefix; EvoLink clients check for it. */
export const TASK_ID_PREFIX = "task-unified-";
/** Task records are kept this long after creation (results expire upstream after 24 h). */
export const TASK_RETENTION_MS = 30 * 24 * 60 * 60_000;
