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
/**
 * Ended task records are deleted by the sweeper this long after their end (result links expire upstream
 * after 24 h; the per-task KV ledger entry and the month totals stay).
 */
export const TASK_RETENTION_MS = 90 * 24 * 60 * 60_000;

// --- Callback relay and webhooks (src/callbacks) ---

/** Largest upstream callback body read: the body is only a hint (the task is re-fetched), so it is capped. */
export const CALLBACK_MAX_BODY_BYTES = 64 * 1024;
/** Timeout of the upstream query that confirms a callback; the upstream gives up on us after 10 s. */
export const CALLBACK_CONFIRM_TIMEOUT_MS = 5_000;
/** Default timeout of one webhook attempt (Svix's), overridable with WEBHOOK_TIMEOUT_MS. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 15_000;
/**
 * Default delays between webhook attempts, in seconds (Svix's schedule after the first attempt: 5 s, 5 min,
 * 30 min, 2 h, 5 h, 10 h, 10 h — about 28 h in all), overridable with WEBHOOK_RETRY_SCHEDULE. The WEBHOOKS
 * consumer's `max_retries` in wrangler.jsonc must equal the number of entries.
 */
export const DEFAULT_WEBHOOK_RETRY_SCHEDULE = "5,300,1800,7200,18000,36000,36000";
/** Each retry delay is spread by ± this fraction, so failed deliveries do not retry in lockstep. */
export const WEBHOOK_RETRY_JITTER = 0.2;
/** Longest delay Cloudflare Queues accepts for `retry({ delaySeconds })`. */
export const QUEUE_MAX_DELAY_SECONDS = 43_200;
/** How long the previous webhook secret keeps signing after a rotation. */
export const WEBHOOK_SECRET_OVERLAP_MS = 24 * 60 * 60_000;
/** Tenant portal links (src/portal): the longest a link may live, and how long one lives unless told. */
export const PORTAL_LINK_MAX_TTL_SECONDS = 86_400;
export const PORTAL_LINK_DEFAULT_TTL_SECONDS = 3_600;
/** How long webhook delivery attempts are kept (and listed) in the tenant's Durable Object. */
export const DELIVERY_RETENTION_MS = 7 * 24 * 60 * 60_000;
/** Most delivery records one admin listing returns. */
export const DELIVERY_LIST_MAX = 100;
/** Outbox rows sent to the queue per alarm run; the rest wait for the next run, armed at once. */
export const OUTBOX_FLUSH_BATCH = 50;
/** Wait before an outbox row whose queue send failed is tried again (doubling per failure, capped at 5 min). */
export const OUTBOX_RETRY_MS = 5_000;
/**
 * How long after its send (or after an attempt's scheduled retry) an outbox row waits for the consumer's next
 * record before the event is sent again, on top of WEBHOOK_TIMEOUT_MS: a message the queue lost (a local
 * runtime killed mid-delivery) is then sent again; one merely late is delivered twice, with one webhook-id.
 */
export const OUTBOX_LEASE_GRACE_MS = 60_000;
/** Longest wait before an unconfirmed event is sent again: each resend of one event doubles the wait. */
export const OUTBOX_LEASE_MAX_MS = 60 * 60_000;
/**
 * An endpoint failing continuously this long (no 2xx in between) is disabled; its new events are held
 * (docs/callbacks.md, "Endpoint health"). Svix's 5 days; WEBHOOK_DISABLE_AFTER_HOURS overrides it.
 */
export const DEFAULT_WEBHOOK_DISABLE_AFTER_HOURS = 120;
/** Events released by re-enabling an endpoint go out at most this fast (or the tenant's max_per_second). */
export const WEBHOOK_RELEASE_PER_SECOND = 20;
/**
 * Longest a delivery to a throttled endpoint waits for its send slot inside the consumer (the outbox already
 * paces the queue, so waits are about one queue batch long); past it, the event is sent at once.
 */
export const WEBHOOK_PACE_MAX_WAIT_MS = 30_000;
/** The window of an endpoint's success ratio. */
export const WEBHOOK_HEALTH_WINDOW_MS = 24 * 60 * 60_000;
/** Queue names; they must match wrangler.jsonc (the queue handler dispatches on them). */
export const WEBHOOK_QUEUE = "reelgate-webhooks";
export const WEBHOOK_DEAD_LETTER_QUEUE = "reelgate-webhooks-dlq";

// --- Quotas, idempotency and the reconciliation sweeper (src/quota, src/tasks/sweeper.ts) ---

/** Length of the sliding window of `requests_per_minute`. */
export const RATE_WINDOW_MS = 60_000;
/** Credits are counted in integer units of 1/10 000 credit, so sums never drift (prices have ≤ 4 decimals). */
export const CREDIT_UNITS = 10_000;
/**
 * What GET /v1/credits shows as `remaining_credits` where no monthly limit bounds the caller: EvoLink's schema
 * has a number there (no null). Far above any month's spend (about $15M at 68 credits per dollar);
 * `token.unlimited_credits` says which it is (docs/quotas.md, "GET /v1/credits").
 */
export const UNLIMITED_CREDITS_SHOWN = 1_000_000_000;
/** Longest Retry-After a quota refusal announces. */
export const MAX_QUOTA_RETRY_AFTER_S = 3_600;
/** Retry-After of a concurrency refusal when no running task has an expected end still ahead. */
export const CONCURRENCY_RETRY_FALLBACK_S = 5;
/** Expected run time of a task the upstream gave no `estimated_time` for (its documented example). */
export const DEFAULT_TASK_SECONDS = 120;
/** How long an Idempotency-Key is remembered (per tenant and user). */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60_000;
/** Longest Idempotency-Key accepted (visible ASCII). */
export const MAX_IDEMPOTENCY_KEY_LENGTH = 255;
/** A duplicate waits for the first request at most the upstream timeout plus this, then gets a 409. */
export const IDEMPOTENCY_WAIT_MARGIN_MS = 2_000;
/** Polling interval bounds of a duplicate waiting for the first request's answer. */
export const IDEMPOTENCY_POLL_MIN_MS = 20;
export const IDEMPOTENCY_POLL_MAX_MS = 250;
/** Default of SWEEP_MIN_AGE_SECONDS: the sweeper asks the upstream about tasks silent for this long. */
export const DEFAULT_SWEEP_MIN_AGE_S = 300;

/**
 * Default of TASK_POLL_CACHE_MS: a live task polled this recently at the same location is answered from the
 * Cache API. Collapses tight polling loops into one upstream query per second per task and location; 0
 * turns it off.
 */
export const DEFAULT_TASK_POLL_CACHE_MS = 1_000;
/**
 * A task older than this is looked up in its tenant's object before the upstream is asked (GET
 * /v1/tasks/{id}, on a poll-cache miss): by then most tasks have ended, and an ended task is answered from
 * its record, never from the upstream again. A younger task skips the lookup, so a live poll makes no
 * object call (video tasks take minutes; DEFAULT_TASK_SECONDS assumes two).
 */
export const TASK_RECORD_FIRST_AFTER_MS = 10 * 60_000;
/**
 * Read limits (src/http/read-limit.ts): what the `ratelimits` bindings in wrangler.jsonc allow per window.
 * The binding does not report its own figures, so the 429 takes them from here;
 * test/http/read-limit.test.ts holds each binding to its figures.
 */
export const READ_LIMITS = {
  user: { binding: "READ_LIMIT_USER", max: 100, periodS: 10 },
  tenant: { binding: "READ_LIMIT_TENANT", max: 1_000, periodS: 10 },
  // Every call of a tenant's portal links together (src/portal/auth.ts), under its own key on the user binding.
  portal: { binding: "READ_LIMIT_USER", max: 100, periodS: 10 },
} as const;
/** Rate refusals an isolate remembers at most (src/quota/edge-refusals.ts); the oldest goes first. */
export const EDGE_REFUSALS_MAX = 10_000;
/** A task still `creating` this long after the upstream timeout was orphaned by a dead request: aborted. */
export const STUCK_CREATING_MARGIN_MS = 60_000;
/** Upstream queries one sweep (one alarm run) makes at most; with more due, the alarm runs again at once. */
export const SWEEP_BATCH = 25;
/** After a sweep whose upstream queries failed, the object's alarm asks again this much later. */
export const SWEEP_RETRY_MS = 60_000;
/** Ended tasks mirrored to KV (the ledger entry) per Durable Object alarm run. */
export const KV_SYNC_BATCH = 50;
/** KV ledger entries (`ledger:{tenant}:{YYYY-MM}:{task}`) expire after about 13 months. */
export const LEDGER_KV_TTL_S = 400 * 24 * 60 * 60;
/** Most ledger rows one admin usage page returns. */
export const LEDGER_PAGE_MAX = 1_000;

// --- Task lists (GET /v1/tasks, GET /admin/tenants/{tenant_id}/tasks; src/tasks/list.ts).
/** Largest `page_size` of a task list (EvoLink's CLI asks for up to 100). */
export const TASK_LIST_PAGE_MAX = 100;
/** `page_size` when the request leaves it out. */
export const TASK_LIST_PAGE_DEFAULT = 20;
/**
 * Deepest row a task list pages to ((page − 1) × page_size): offset paging reads the rows it skips, so this
 * bounds one list request's rows read. Older tasks are reached by narrowing with `created_before`.
 */
export const TASK_LIST_MAX_OFFSET = 10_000;
/** With a creation-time range, `total` is counted up to this many tasks (`total_exact: false` beyond). */
export const TASK_LIST_COUNT_CAP = 10_000;

// --- Many tasks at once (POST /v1/tasks/batch; src/tasks/batch.ts).
/** Most task ids one batch may ask for (EvoLink's own limit, as its CLI sends them). */
export const TASK_BATCH_MAX = 50;
/**
 * Tasks of one batch read at once: at most this many upstream queries in flight per batch, so a batch of 50
 * live tasks neither bursts the operator's upstream quota nor holds 50 connections of one request.
 */
export const TASK_BATCH_CONCURRENCY = 8;

// --- Uploads (src/files): EvoLink's files API on the gateway.
/** Default of MAX_UPLOAD_BYTES: EvoLink's own limit for one file (100 MB). */
export const DEFAULT_MAX_UPLOAD_BYTES = 100 * 1024 * 1024;
/** How long an uploaded file (and its signed URL) lives: 72 hours, as EvoLink keeps its files. */
export const FILE_TTL_MS = 72 * 60 * 60_000;
/**
 * The tenant's `max_files` with FILES_BACKEND=r2 when it sets none: EvoLink's default user group's 2000
 * files, so GET /api/v1/files/quota has a true non-negative answer (docs/uploads.md).
 */
export const R2_DEFAULT_MAX_FILES = 2000;
/** A file whose upload never finished stops counting toward `max_files` after this long. */
export const FILE_PENDING_TTL_MS = 15 * 60_000;
/** R2 multipart part size: every part but the last is exactly this long (R2's minimum is 5 MiB). */
export const R2_PART_BYTES = 5 * 1024 * 1024;
/** Largest JSON body of the base64 and url upload routes beyond the encoded file itself. */
export const FILE_JSON_OVERHEAD_BYTES = 64 * 1024;
/** Most files one page of GET /api/v1/files/list returns. */
export const FILE_LIST_PAGE_MAX = 100;
/** Expired or released files deleted per Durable Object alarm run. */
export const FILE_EXPIRY_BATCH = 100;
/** Timeout of one file transfer the gateway makes: to EvoLink's files API, or an `upload/url` download. */
export const FILE_FETCH_TIMEOUT_MS = 10 * 60_000;

// --- Kept results (src/results, docs/results.md) and task event streams (src/events, docs/events.md) ---

/** A tenant's `results.retention_days` when it sets none. */
export const DEFAULT_RESULT_RETENTION_DAYS = 30;
/** Default of MAX_RESULT_RETENTION_DAYS, the longest retention an operator allows. */
export const DEFAULT_MAX_RESULT_RETENTION_DAYS = 365;
/** Default of EVENTS_POLL_MS: a task's streams ask the upstream at most this often per location. */
export const DEFAULT_EVENTS_POLL_MS = 5_000;
/** Default of EVENTS_IDLE_MS: a stream with no event for this long is closed. */
export const DEFAULT_EVENTS_IDLE_MS = 10 * 60_000;
/** Open event streams a tenant may hold when its quotas set no `max_event_streams`. */
export const DEFAULT_TENANT_EVENT_STREAMS = 1_000;
/** Open event streams one user (`sub`) may hold when the tenant's user_quotas set no `max_event_streams`. */
export const DEFAULT_USER_EVENT_STREAMS = 10;
/** How long the upstream's result links work after a task's end ("valid for 24 hours", EvoLink's docs). */
export const UPSTREAM_RESULT_TTL_MS = 24 * 60 * 60_000;
/** One copy attempt's deadline, body included (a 300 MB video at 2 MB/s fits). */
export const RESULT_COPY_TIMEOUT_MS = 10 * 60_000;
/** A copy attempt holds its row this long; a crashed attempt's row is tried again after it. */
export const RESULT_COPY_LEASE_MS = RESULT_COPY_TIMEOUT_MS + 60_000;
/** Copies one alarm run of a tenant's object makes at once. */
export const RESULT_COPY_PARALLEL = 4;
/** Seconds between copy attempts of a result (the last repeats), while the upstream's link lives. */
export const RESULT_COPY_BACKOFF_S = [5, 30, 120, 600, 1800, 3600] as const;
/** Expired results deleted per alarm run (R2 deletes up to 1,000 keys per call). */
export const RESULT_EXPIRY_BATCH = 500;
/**
 * An ended task's final view is kept in a location's cache this long: after a DELETE /v1/tasks/{id}, another
 * location may still show the task (never its results, which are gone) for at most this long.
 */
export const TASK_FINAL_CACHE_MS = 10 * 60_000;
/** How often a task's hub in an isolate reads the location's cache (src/events/hub.ts): the end a callback
 * wrote there reaches the isolate's streams this long after, at most. */
export const EVENT_HUB_CHECK_MS = 1_000;
/** How often each stream looks at its hub's state in memory (no I/O); with the check above, within 1.5 s. */
export const EVENT_STREAM_TICK_MS = 500;
/** A comment line sent on a stream that has written nothing for this long, so proxies keep it open. */
export const EVENT_STREAM_HEARTBEAT_MS = 15_000;
/**
 * The longest an event stream stays open; its slot in the tenant's object (a lease) lasts as long, so the
 * slot of a stream whose Worker died frees itself. The client reconnects with Last-Event-ID.
 */
export const EVENT_STREAM_MAX_LIFE_MS = 30 * 60_000;
/**
 * A stream closed by its task's end gives its slot back at a random moment in the second half of this:
 * every stream on the task closes at once, and their object calls come after the final events, spread out.
 * A stream closed for any other reason (idle, cancelled) gives it back at once, for its client's reconnect.
 */
export const EVENT_STREAM_END_RELEASE_MS = 5_000;
/** The longest Retry-After a refused stream is told (a slot frees when any stream closes, usually sooner). */
export const EVENT_STREAM_RETRY_AFTER_MAX_S = 30;

// --- The money loop (docs/quotas.md): alerts before the wall, and the operator's own account.

/** `quota.threshold` events fire at these percentages of a scope's monthly credits unless the tenant sets its own. */
export const DEFAULT_ALERT_THRESHOLDS: readonly number[] = [80, 100];
/** The Registry reads the operator's EvoLink balance at most this often (UPSTREAM_CREDITS_CHECK_SECONDS). */
export const DEFAULT_UPSTREAM_CREDITS_CHECK_S = 300;
/**
 * A tenant object reports its open reserved credits to the Registry at most this often after admissions (the
 * burst's last figure, sent when the wait ends); a task's end reports from the object's alarm.
 */
export const RESERVATIONS_REPORT_MS = 2_000;
