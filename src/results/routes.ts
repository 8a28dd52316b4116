// GET/HEAD {PUBLIC_BASE_URL}/results/{token}/{name}: a kept result, served like a video file. No credentials
// but the signed token (./url.ts): a `<video>` element plays it, Range and all. The copy in R2 answers when it
// is there (no object call: the isolate-cached incarnation check and one R2 read); before the copy is done (or when
// the storage limit refused it) the upstream's link is streamed through, Range passed on, while it lives.
// Every miss — a bad, altered or expired token, a deleted tenant or task, an old incarnation, a dead link with
// no copy — is the same 404.
import { Hono } from "hono";
import type { HttpEnv } from "../http/context";
import { ApiError } from "../http/errors";
import { serveObject } from "../http/r2";
import { tenantObject } from "../state/client";
import { isCurrentIncarnation } from "../tenants/lookup";
import { fetchSource } from "./copy";
import { resultKey } from "./keeper";
import { verifyResultToken } from "./url";

const notFound = () => new ApiError("result_not_found", "The requested result could not be found");

/** Headers of the upstream's answer passed on when its link is streamed through. */
const RELAYED = ["content-type", "content-length", "content-range", "accept-ranges", "etag", "last-modified"];

export const resultRoutes = new Hono<HttpEnv>();

resultRoutes.on(["GET", "HEAD"], "/:token/:name", async (c) => {
  const now = Date.now();
  const config = c.get("config");
  const claims = await verifyResultToken(config.signingSecret, c.req.param("token"), now);
  if (!claims) throw notFound();
  const ref = { id: claims.tenantId, incarnation: claims.incarnation };
  if (!(await isCurrentIncarnation(c.env, ref, now))) throw notFound();
  const extra: Record<string, string> = { "x-content-type-options": "nosniff" };
  if (c.req.query("download") === "1")
    extra["content-disposition"] = `attachment; filename="${downloadName(c.req.param("name"))}"`;

  const lifetime = Math.max(0, Math.floor((claims.until - now) / 1000));
  const stored = await serveObject(c.env.RESULTS, resultKey(ref, claims.task, claims.idx), c.req.raw, {
    cacheControl: `private, max-age=${lifetime}`,
    headers: extra,
  });
  if (stored) return stored;

  const from = await tenantObject(c.env, ref).resultSource(claims.task, claims.idx);
  if (!from) throw notFound();
  return relay(c.req.raw, from.source, config.devAllowLocalUrls, extra);
});

/** The upstream's link streamed through (GET or HEAD, Range and If-None-Match passed on); 404 once it is dead. */
async function relay(
  request: Request,
  source: string,
  allowLocal: boolean,
  extra: Record<string, string>,
): Promise<Response> {
  const headers: Record<string, string> = {};
  for (const name of ["range", "if-none-match"]) {
    const value = request.headers.get(name);
    if (value !== null) headers[name] = value;
  }
  const opened = await fetchSource(source, allowLocal, { method: request.method, headers });
  if (opened.kind !== "answer") throw notFound();
  const res = opened.response;
  const out = new Headers(extra);
  for (const name of RELAYED) {
    const value = res.headers.get(name);
    if (value !== null) out.set(name, value);
  }
  out.set("accept-ranges", "bytes");
  // Not cached by the client: the same URL answers from R2 (another ETag) once the copy is done.
  out.set("cache-control", "private, no-store");
  return new Response(request.method === "HEAD" ? null : res.body, { status: res.status, headers: out });
}

/** The saved file's name: the URL's cosmetic name when it is plain, else a safe default. */
function downloadName(name: string): string {
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(name) ? name : "video.mp4";
}
