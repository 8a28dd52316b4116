// The path and query parameters of the admin API's tenant operations, as zod schemas: the routes validate
// with them (src/http/validate.ts) and the OpenAPI entries are generated from them.
import * as z from "../config/zod";
import { integer, optionalText } from "../http/validate";
import { TENANT_ID_PATTERN } from "./schema";

export const TenantIdSchema = z
  .string()
  .check(z.regex(TENANT_ID_PATTERN, "must match [a-z0-9][a-z0-9_-]{0,62}"));

/** `/admin/tenants/{tenant_id}…`: one answer for a malformed id everywhere, 400 naming `tenant_id`. */
export const TenantIdParams = z.object({ tenant_id: TenantIdSchema });

/** The same parameter as the OpenAPI entries describe it. */
export const TENANT_ID_PATH = {
  tenant_id: { schema: TenantIdSchema, description: "The tenant id.", example: "acme" },
};

export const TENANT_SEARCH_MAX = 200;

/** GET /admin/tenants. */
export const TenantListQuery = z.object({
  q: optionalText(
    z.string().check(z.maxLength(TENANT_SEARCH_MAX, `must be at most ${TENANT_SEARCH_MAX} characters`)),
  ),
  limit: integer(1, 1000).default(100),
  cursor: optionalText(z.string().check(z.regex(TENANT_ID_PATTERN, "is not one this API returned"))),
});

/** DELETE /admin/tenants/{tenant_id}. */
export const TenantDeleteQuery = z.object({
  force: z.pipe(
    z.optional(z.enum(["true", "false"], "must be true or false")),
    z.transform((v) => v === "true"),
  ),
});

/** GET /admin/upstream. */
export const UpstreamStatusQuery = z.object({
  refresh: z.pipe(
    z.optional(z.enum(["1", "0", "true", "false"], "must be 1, 0, true or false")),
    z.transform((v) => v === "1" || v === "true"),
  ),
});
