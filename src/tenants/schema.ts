// The tenant record: who a tenant is, how its tokens are verified, and what it may do.
// `TenantInput` is what the admin API accepts; `Tenant` is what KV stores (every read is parsed with it).
import * as z from "zod";
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
  .object({
    kty: z.enum(["RSA", "EC", "OKP"]),
    kid: z.string().min(1).max(256).optional(),
    alg: z.string().max(32).optional(),
    use: z.string().optional(),
    crv: z.string().optional(),
    n: z.string().optional(),
    e: z.string().optional(),
    x: z.string().optional(),
    y: z.string().optional(),
  })
  .catchall(z.unknown())
  .superRefine((jwk, ctx) => {
    for (const m of PRIVATE_JWK_MEMBERS) {
      if (m in jwk) ctx.addIssue({ code: "custom", message: `key set holds private key material ("${m}")` });
    }
  });
export type PublicJwk = z.infer<typeof PublicJwkSchema>;

export const JwksSchema = z.object({ keys: z.array(PublicJwkSchema).max(100) });

const Audience = z.union([z.string().min(1).max(256), z.array(z.string().min(1).max(256)).min(1).max(16)]);

/** Tokens without `sub` act for the whole tenant (its backend); `true` refuses them, so no token can. */
const RequireSub = z
  .boolean()
  .optional()
  .describe(
    "Refuse tokens without `sub` (401). Default false: a token without `sub` acts for the whole tenant (all users' tasks, files and usage).",
  );

const AuthInput = z
  .object({
    issuer: z
      .string()
      .min(1)
      .max(MAX_ISSUER_LENGTH)
      // Its KV index key (`issuer:` + the issuer) must fit KV's 512-byte key limit, non-ASCII included.
      .refine((s) => new TextEncoder().encode(`issuer:${s}`).length <= 512, "is too long in UTF-8 bytes"),
    audience: Audience,
    jwks: JwksSchema.optional(),
    jwks_uri: z.string().max(2048).optional(),
    hs256_secret: z.string().optional(),
    algorithms: z
      .array(z.enum([...ASYMMETRIC_ALGS, ...HMAC_ALGS]))
      .min(1)
      .optional(),
    require_sub: RequireSub,
  })
  .strict()
  .superRefine((a, ctx) => {
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
        ctx.addIssue({ code: "custom", path: ["algorithms"], message: "an hs256_secret only allows HS256" });
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
  });

const Quotas = z
  .object({
    requests_per_minute: z.number().int().positive().optional(),
    max_concurrent_tasks: z.number().int().positive().optional(),
    monthly_credits: z.number().nonnegative().optional(),
    /** Live (unexpired) uploaded files at once (src/files). */
    max_files: z.number().int().positive().optional(),
    /** Bytes uploaded per calendar month (UTC). */
    monthly_upload_bytes: z.number().int().nonnegative().optional(),
    /** Bytes of kept results (src/results) stored at once; a result that would pass it is not kept. */
    result_storage_bytes: z.number().int().nonnegative().optional(),
    /** Task event streams (src/events) open at once. */
    max_event_streams: z.number().int().positive().optional(),
  })
  .strict();

/**
 * Kept results (docs/results.md): how many days a completed task's videos stay in the operator's bucket
 * (default DEFAULT_RESULT_RETENTION_DAYS); 0 passes the upstream's own links through. The upper bound is
 * the operator's MAX_RESULT_RETENTION_DAYS, checked where the config is at hand (the admin routes).
 */
const Results = z.object({ retention_days: z.number().int().nonnegative().optional() }).strict();

const Policy = z
  .object({
    allowed_qualities: z
      .array(z.enum(["720p", "1080p"]))
      .min(1)
      .optional(),
    max_duration: z.number().int().min(2).max(10).optional(),
    allow_audio: z.boolean().optional(),
    callback_hosts: z
      .array(
        z
          .string()
          .min(1)
          .max(253)
          .refine(isCallbackHostPattern, "must be a host name or *.domain (no scheme, port or path)"),
      )
      .max(100)
      .optional(),
    allowed_models: z.array(z.string().min(1).max(100)).min(1).max(50).optional(),
    /** Uploaded files a task used are deleted once that task has ended (src/files). */
    delete_uploads_after_task: z.boolean().optional(),
  })
  .strict();

/** The policy an operator sends: `allowed_models` must name registered models (a stored one may outlive one). */
const PolicyInput = Policy.extend({
  allowed_models: z
    .array(
      z
        .string()
        .refine((id) => MODELS.has(id), { message: `must be one of ${[...MODELS.keys()].join(", ")}` }),
    )
    .min(1)
    .max(50)
    .optional(),
});

const WebhookInput = z
  .object({
    url: z.string().max(2048).optional(),
    secret: z
      .string()
      .regex(/^whsec_[A-Za-z0-9+/]{32,}={0,2}$/, "must be whsec_ followed by base64 of at least 24 bytes")
      .optional(),
  })
  .strict();

export const TenantInputSchema = z
  .object({
    name: z.string().min(1).max(200),
    status: z.enum(["active", "suspended"]).default("active"),
    auth: AuthInput,
    policy: PolicyInput.optional(),
    quotas: Quotas.optional(),
    user_quotas: Quotas.optional(),
    results: Results.optional(),
    webhook: WebhookInput.optional(),
  })
  .strict();
export type TenantInput = z.infer<typeof TenantInputSchema>;

const StoredWebhook = z.object({
  url: z.string().optional(),
  secret: z.string(),
  /** The secret replaced by the last rotation; it keeps signing until `previous_expires_at`. */
  previous_secret: z.string().optional(),
  previous_expires_at: z.number().optional(),
});

/** A tenant's incarnation: 16 base32 characters, set by the Registry when the tenant is created. */
export const INCARNATION_PATTERN = /^[a-z2-7]{16}$/;

export const TenantSchema = z.object({
  id: z.string().regex(TENANT_ID_PATTERN),
  /** Server-managed (Registry): set when the tenant is created, kept by every later write; never input. */
  incarnation: z.string().regex(INCARNATION_PATTERN),
  /** Server-managed (Registry): raised by every write of the record, so a lower copy is a stale one. */
  version: z.number().int().positive(),
  name: z.string(),
  status: z.enum(["active", "suspended"]),
  auth: z.object({
    issuer: z.string(),
    audience: Audience,
    jwks: JwksSchema.optional(),
    jwks_uri: z.string().optional(),
    hs256_secret: z.string().optional(),
    algorithms: z.array(z.enum([...ASYMMETRIC_ALGS, ...HMAC_ALGS])).optional(),
    require_sub: RequireSub,
  }),
  policy: Policy.optional(),
  quotas: Quotas.optional(),
  user_quotas: Quotas.optional(),
  results: Results.optional(),
  webhook: StoredWebhook.optional(),
  created_at: z.string(),
  updated_at: z.string(),
});
export type Tenant = z.infer<typeof TenantSchema>;
export type TenantPolicy = NonNullable<Tenant["policy"]>;
export type QuotaLimits = NonNullable<Tenant["quotas"]>;
