// GET /admin/openapi.json, behind the admin token: the admin API's OpenAPI document, built at build time
// (npm run openapi → openapi/admin.json, copied to public/admin/ by scripts/assets/docs.mjs) and read from
// the static assets after authentication (wrangler.jsonc runs the Worker first for /admin/*), so the
// Worker bundle carries none of it.
import type { Context } from "hono";
import type { HttpEnv } from "../http/context";
import { ApiError } from "../http/errors";

export const ADMIN_DOCUMENT_PATH = "/admin/openapi.json";

export async function adminOpenApi(c: Context<HttpEnv>): Promise<Response> {
  const assets = c.env.ASSETS as Fetcher | undefined;
  const res = assets ? await assets.fetch(new URL(ADMIN_DOCUMENT_PATH, c.req.url)) : null;
  if (!res?.ok)
    throw new ApiError("misconfigured", "The admin OpenAPI document is not deployed (npm run build:assets)");
  return new Response(res.body, {
    headers: { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" },
  });
}
