// Shared set-up of the upload tests: the real app with per-test settings (backend, size cap), MP4-looking
// bodies, and multipart/base64 request builders. Every response is held to the OpenAPI documents, as in gw().
import { createExecutionContext, waitOnExecutionContext } from "cloudflare:test";
import { env } from "cloudflare:workers";
import { app } from "../../src/app";
import { sweepResponse } from "../helpers/sweep";
import { admin, GATEWAY } from "../helpers/gateway";
import { checkAgainstOpenApi } from "../helpers/openapi";
import { route } from "../helpers/outbound";
import type { UpstreamSimulator } from "../../sim/src/core";

export const FILES_HOST = "files-api.evolink.test";

/** The app with extra settings (FILES_BACKEND, MAX_UPLOAD_BYTES, …) or bindings over the test bindings. */
export async function gwWith(
  vars: Record<string, unknown>,
  path: string,
  init: RequestInit = {},
): Promise<Response> {
  // With an ExecutionContext, as the runtime gives one (routes hand work to waitUntil), waited on here.
  const ctx = createExecutionContext();
  const res = await sweepResponse(
    await app.fetch(new Request(`${GATEWAY}${path}`, init), { ...env, ...vars }, ctx),
  );
  await waitOnExecutionContext(ctx);
  await checkAgainstOpenApi(init.method ?? "GET", `${GATEWAY}${path}`, res);
  return res;
}

/** The tenant's current incarnation (the admin view): file URLs minted by a test are bound to it. */
export async function incarnationOf(tenantId: string): Promise<string> {
  return ((await (await admin(`/admin/tenants/${tenantId}`)).json()) as { incarnation: string }).incarnation;
}

/** A file of exactly `size` bytes that starts with an MP4 `ftyp` box (the rest is an mdat-ish filler). */
export function mp4(size: number, brand = "isom"): Uint8Array {
  const out = new Uint8Array(size);
  const head = new Uint8Array([
    0,
    0,
    0,
    24,
    ...ascii("ftyp"),
    ...ascii(brand),
    0,
    0,
    2,
    0,
    ...ascii("isomiso2avc1mp41"),
  ]);
  out.set(head.subarray(0, Math.min(size, 24 + 8)));
  for (let i = head.length; i < size; i++) out[i] = i % 251;
  return out;
}

export const PNG = new Uint8Array([
  0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82, 0, 0,
]);

export function ascii(s: string): number[] {
  return [...s].map((ch) => ch.charCodeAt(0));
}

export function form(
  token: string,
  file: Uint8Array,
  opts: {
    type?: string;
    name?: string;
    fields?: Record<string, string>;
    fieldsAfter?: Record<string, string>;
  } = {},
): RequestInit {
  const fd = new FormData();
  for (const [k, v] of Object.entries(opts.fields ?? {})) fd.append(k, v);
  fd.append("file", new File([file], opts.name ?? "clip.mp4", { type: opts.type ?? "video/mp4" }));
  for (const [k, v] of Object.entries(opts.fieldsAfter ?? {})) fd.append(k, v);
  return { method: "POST", headers: { authorization: `Bearer ${token}` }, body: fd };
}

export function base64Body(
  token: string,
  file: Uint8Array,
  type = "video/mp4",
  extra: Record<string, unknown> = {},
): RequestInit {
  let s = "";
  for (const b of file) s += String.fromCharCode(b);
  return {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ base64_data: `data:${type};base64,${btoa(s)}`, ...extra }),
  };
}

export function jsonBody(token: string, body: unknown): RequestInit {
  return {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  };
}

export function routeFiles(sim: UpstreamSimulator): void {
  route(FILES_HOST, (req) => sim.fetch(req));
}

export interface Envelope {
  success: boolean;
  code: number;
  msg: string;
  data?: Record<string, any>;
  error?: { code: string; message: string; type: string; details?: Record<string, unknown> };
}

export async function envelope(res: Response): Promise<Envelope> {
  return (await res.json()) as Envelope;
}
