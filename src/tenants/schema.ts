// The tenant record: who a tenant is, how its tokens are verified, and what it may do.
// `TenantInput` is what the admin API accepts; `Tenant` is what KV stores (every read is parsed with it).
import * as z from "../config/zod";
import { MODELS } from "../upstream/models";
import { isCallbackHostPattern } from "../net/host-patterns";

export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,62}$/;
/** Longest `auth.issuer`: a token whose `iss` is longer names no tenant and is refused before any lookup. */
export const MAX_ISSUER_LENGTH = 400;

/** JWS algorithms a tenant may allow-list. HMAC only ever pairs with `hs256_secret`. */
export const ASYMMETRIC_ALGS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "ES512",
  "EdDSA",
  "Ed25519",
] as const;
export const HMAC_ALGS = ["HS256"] as const;
export type AsymmetricAlg = (typeof ASYMMETRIC_ALGS)[number];
export type JwsAlg = AsymmetricAlg | (typeof HMAC_ALGS)[number];

/** Private or symmetric key members that must never sit in a published key set. */
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"] as const;

export const PublicJwkSchema = z
  .catchall(
    z.object({
      kty: z.enum(["RSA", "EC", "OKP"]),
      kid: z.optional(z.string().check(z.minLength(1), z.maxLength(256))),
      alg: z.optional(z.string().check(z.maxLength(32))),
      use: z.optional(z.string()),
      crv: z.optional(z.string()),
      n: z.optional(z.string()),
      e: z.optional(z.string()),
      x: z.optional(z.string()),
      y: z.optional(z.string()),
    }),
    z.unknown(),
  )
  .check(
    z.superRefine((jwk, ctx) => {
      for (const m of PRIVATE_JWK_MEMBERS) {
        if (m in jwk)
          ctx.addIssue({ code: "custom", message: `key set holds private key material ("${m}")` });
      }
    }),
  );
export type PublicJwk = z.infer<typeof PublicJwkSchema>;

export const JwksSchema = z.object({ keys: z.array(PublicJwkSchema).check(z.maxLength(100)) });

const AudienceString = () => z.string().check(z.minLength(1), z.maxLength(256));
const Audience = z.union([
  AudienceString(),
  z.array(AudienceString()).check(z.minLength(1), z.maxLength(16)),
]);

/** Tokens without `sub` act for the whole tenant (its backend); `true` refuses them, so no token can. */
const RequireSub = z
  .optional(z.boolean())
  .check(
    z.describe(
      "Refuse tokens without `sub` (401). Default false: a token without `sub` acts for the whole tenant (all users' tasks, files and usage).",
    ),
  );

const AuthInput = z
  .strictObject({
    issuer: z.string().check(
      z.minLength(1),
      z.maxLength(MAX_ISSUER_LENGTH),
      // Its KV index key (`issuer:` + the issuer) must fit KV's 512-byte key limit, non-ASCII included.
      z.refine(
        (s: string) => new TextEncoder().encode(`issuer:${s}`).length <= 512,
        "is too long in UTF-8 bytes",
      ),
    ),
    audience: Audience,
    jwks: z.optional(JwksSchema),
    jwks_uri: z.optional(z.string().check(z.maxLength(2048))),
    hs256_secret: z.optional(z.string()),
    algorithms: z.optional(z.array(z.enum([...ASYMMETRIC_ALGS, ...HMAC_ALGS])).check(z.minLength(1))),
    require_sub: RequireSub,
  })
  .check(
    z.superRefine((a, ctx) => {
      const sources = [a.jwks, a.jwks_uri, a.hs256_secret].filter((s) => s !== undefined).length;
      if (sources !== 1) {
        ctx.addIssue({ code: "custom", message: "auth takes exactly one of jwks, jwks_uri or hs256_secret" });
        return;
      }
      if (a.hs256_secret !== undefined) {
        if (new TextEncoder().encode(a.hs256_secret).length < 32)
          ctx.addIssue({
            code: "custom",
            path: ["hs256_secret"],
            message: "hs256_secret must be at least 32 bytes",
          });
        if (a.algorithms?.some((alg) => alg !== "HS256"))
          ctx.addIssue({
            code: "custom",
            path: ["algorithms"],
            message: "an hs256_secret only allows HS256",
          });
      } else if (a.algorithms?.some((alg) => alg.startsWith("HS"))) {
        ctx.addIssue({
          code: "custom",
          path: ["algorithms"],
          message: "HMAC algorithms are never accepted with public keys",
        });
      }
      if (a.jwks && a.jwks.keys.length === 0 && a.jwks_uri === undefined) {
        // An empty inline key set is legal (a tenant being set up) but verifies nothing.
      }
    }),
  );

const positiveInt = () => z.optional(z.number().check(z.int(), z.positive()));
const nonNegativeInt = () => z.optional(z.number().check(z.int(), z.nonnegative()));

const Quotas = z.strictObject({
  requests_per_minute: positiveInt(),
  max_concurrent_tasks: positiveInt(),
  monthly_credits: z.optional(z.number().check(z.nonnegative())),
  /** Live (unexpired) uploaded files at once (src/files). */
  max_files: positiveInt(),
  /** Bytes uploaded per calendar month (UTC). */
  monthly_upload_bytes: nonNegativeInt(),
  /** Bytes of kept results (src/results) stored at once; a result that would pass it is not kept. */
  result_storage_bytes: nonNegativeInt(),
  /** Task event streams (src/events) open at once. */
  max_event_streams: positiveInt(),
  /**
   * Percentages of `monthly_credits` at which a `quota.threshold` event is sent, once per scope and month
   * (default DEFAULT_ALERT_THRESHOLDS, [80, 100]; [] sends none).
   */
  alert_thresholds: z.optional(
    z.array(z.number().check(z.int(), z.gte(1), z.lte(1000))).check(
      z.maxLength(10),
      z.refine((a: number[]) => a.every((t, i) => i === 0 || t > a[i - 1]!), "must be ascending, each once"),
    ),
  ),
});

/**
 * Kept results (docs/results.md): how many days a completed task's videos stay in the operator's bucket
 * (default DEFAULT_RESULT_RETENTION_DAYS); 0 passes the upstream's own links through. The upper bound is
 * the operator's MAX_RESULT_RETENTION_DAYS, checked where the config is at hand (the admin routes).
 */
const Results = z.strictObject({ retention_days: nonNegativeInt() });

const Policy = z.strictObject({
  allowed_qualities: z.optional(z.array(z.enum(["720p", "1080p"])).check(z.minLength(1))),
  max_duration: z.optional(z.number().check(z.int(), z.gte(2), z.lte(10))),
  allow_audio: z.optional(z.boolean()),
  callback_hosts: z.optional(
    z
      .array(
        z
          .string()
          .check(
            z.minLength(1),
            z.maxLength(253),
            z.refine(isCallbackHostPattern, "must be a host name or *.domain (no scheme, port or path)"),
          ),
      )
      .check(z.maxLength(100)),
  ),
  allowed_models: z.optional(
    z.array(z.string().check(z.minLength(1), z.maxLength(100))).check(z.minLength(1), z.maxLength(50)),
  ),
  /** Uploaded files a task used are deleted once that task has ended (src/files). */
  delete_uploads_after_task: z.optional(z.boolean()),
});

/** The policy an operator sends: `allowed_models` must name registered models (a stored one may outlive one). */
const PolicyInput = z.extend(Policy, {
  allowed_models: z.optional(
    z
      .array(
        z.string().check(
          z.refine((id: string) => MODELS.has(id), {
            message: `must be one of ${[...MODELS.keys()].join(", ")}`,
          }),
        ),
      )
      .check(z.minLength(1), z.maxLength(50)),
  ),
});

const WebhookInput = z.strictObject({
  url: z.optional(z.string().check(z.maxLength(2048))),
  secret: z.optional(
    z
      .string()
      .check(
        z.regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, "must be whsec_ followed by base64 of at least 24 bytes"),
      ),
  ),
  /** Deliveries per second to each endpoint, at most (docs/callbacks.md, "Throttling"); absent: unlimited. */
  max_per_second: z.optional(z.number().check(z.positive(), z.lte(1000))),
});

/**
 * The tenant portal (src/portal, docs/portal.md): the origins allowed to frame its page, each an https origin
 * (`https://host[:port]`, the host may start with `*.`), set as its CSP `frame-ancestors`; none: no framing.
 */
const FRAME_ANCESTOR =
  /^https:\/\/(\*\.)?[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*(:\d{1,5})?$/;
const PortalInput = z.strictObject({
  frame_ancestors: z.optional(
    z
      .array(
        z
          .string()
          .check(
            z.maxLength(260),
            z.regex(FRAME_ANCESTOR, "must be an https origin (https://host[:port], lower case, no path)"),
          ),
      )
      .check(z.maxLength(20)),
  ),
});

export const TenantInputSchema = z.strictObject({
  name: z.string().check(z.minLength(1), z.maxLength(200)),
  status: z._default(z.enum(["active", "suspended"]), "active"),
  auth: AuthInput,
  policy: z.optional(PolicyInput),
  quotas: z.optional(Quotas),
  user_quotas: z.optional(Quotas),
  results: z.optional(Results),
  webhook: z.optional(WebhookInput),
  portal: z.optional(PortalInput),
});
export type TenantInput = z.infer<typeof TenantInputSchema>;

const StoredWebhook = z.object({
  url: z.optional(z.string()),
  secret: z.string(),
  /** The secret replaced by the last rotation; it keeps signing until `previous_expires_at`. */
  previous_secret: z.optional(z.string()),
  previous_expires_at: z.optional(z.number()),
  max_per_second: z.optional(z.number()),
});

/** A tenant's incarnation: 16 base32 characters, set by the Registry when the tenant is created. */
export const INCARNATION_PATTERN = /^[a-z2-7]{16}$/;

export const TenantSchema = z.object({
  id: z.string().check(z.regex(TENANT_ID_PATTERN)),
  /** Server-managed (Registry): set when the tenant is created, kept by every later write; never input. */
  incarnation: z.string().check(z.regex(INCARNATION_PATTERN)),
  /** Server-managed (Registry): raised by every write of the record, so a lower copy is a stale one. */
  version: z.number().check(z.int(), z.positive()),
  name: z.string(),
  status: z.enum(["active", "suspended"]),
  auth: z.object({
    issuer: z.string(),
    audience: Audience,
    jwks: z.optional(JwksSchema),
    jwks_uri: z.optional(z.string()),
    hs256_secret: z.optional(z.string()),
    algorithms: z.optional(z.array(z.enum([...ASYMMETRIC_ALGS, ...HMAC_ALGS]))),
    require_sub: RequireSub,
  }),
  policy: z.optional(Policy),
  quotas: z.optional(Quotas),
  user_quotas: z.optional(Quotas),
  results: z.optional(Results),
  webhook: z.optional(StoredWebhook),
  portal: z.optional(
    z.object({
      frame_ancestors: z.optional(z.array(z.string())),
      /** Server-managed: portal links issued at or before this time (Unix ms) are refused (a revocation). */
      links_valid_after: z.optional(z.number()),
    }),
  ),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Tenant = z.infer<typeof TenantSchema>;
export type TenantPolicy = NonNullable<Tenant["policy"]>;
export type QuotaLimits = NonNullable<Tenant["quotas"]>;
