// The gateway's own result URLs: `{PUBLIC_BASE_URL}/results/{token}/{name}`. The token names the tenant, its
// incarnation, the task's row and the result's index, and the end of retention, under an HMAC over all of it;
// the URL is the only credential (a `<video>` element sends no header). A URL of a deleted tenant, of an
// earlier life of the tenant, altered, forged or past its retention never serves: each is the same 404.
// `results` stays an array of URL strings (EvoLink's shape): only the strings change.
import type { Config } from "../config/env";
import type { TenantRef } from "../state/client";
import { signToken, verifyToken } from "../util/signed-token";

const DOMAIN = "result-url/v1";
const MAX_TOKEN_CHARS = 1024;
const DAY_MS = 86_400_000;
export const RESULT_URL_PATH = "/results/";

export interface ResultClaims {
  tenantId: string;
  incarnation: string;
  /** The task's row id (src/tasks/table.ts), not its public id. */
  task: string;
  idx: number;
  /** Unix ms, whole seconds: the end of retention. */
  until: number;
}

/** What decides a task's kept results: its row, its end, and the retention it was created with. */
export interface KeptTask {
  id: string;
  endedAt: number | null;
  retentionDays: number;
}

/** The end of retention of a task's results, or null when they are not kept (retention 0, or not ended). */
export function keptUntil(task: KeptTask): number | null {
  if (task.retentionDays <= 0 || task.endedAt === null) return null;
  return task.endedAt + task.retentionDays * DAY_MS;
}

export function signResultToken(secret: string, c: ResultClaims): Promise<string> {
  const text = JSON.stringify([c.tenantId, c.incarnation, c.task, c.idx, Math.floor(c.until / 1000)]);
  return signToken(secret, DOMAIN, text);
}

/** The claims of a genuine token still within its retention, or null (forged, altered, malformed, expired). */
export async function verifyResultToken(
  secret: string,
  token: string,
  now: number,
): Promise<ResultClaims | null> {
  const text = await verifyToken(secret, DOMAIN, token, MAX_TOKEN_CHARS);
  const claims = text === null ? null : decode(text);
  return claims && claims.until > now ? claims : null;
}

function decode(text: string): ResultClaims | null {
  try {
    const v: unknown = JSON.parse(text);
    if (!Array.isArray(v) || v.length !== 5) return null;
    const [tenantId, incarnation, task, idx, until] = v as unknown[];
    if (typeof tenantId !== "string" || typeof incarnation !== "string" || typeof task !== "string")
      return null;
    if (!Number.isInteger(idx) || (idx as number) < 0 || !Number.isInteger(until)) return null;
    return { tenantId, incarnation, task, idx: idx as number, until: (until as number) * 1000 };
  } catch {
    return null;
  }
}

/** The file name a URL ends with and a download is saved as: the extension of the upstream's link. */
export function resultName(source: string, idx: number): string {
  const ext = /\.([A-Za-z0-9]{1,5})$/.exec(safePath(source))?.[1]?.toLowerCase() ?? "mp4";
  return `video-${idx + 1}.${ext}`;
}

function safePath(url: string): string {
  try {
    return new URL(url).pathname;
  } catch {
    return "";
  }
}

/**
 * `results` as a tenant sees them: for a task whose results are kept, the gateway's signed URLs (a fresh
 * signature on every read); otherwise the upstream's links, unchanged.
 */
export async function presentResults(
  config: Pick<Config, "publicBaseUrl" | "signingSecret">,
  tenant: TenantRef,
  task: KeptTask,
  sources: readonly string[],
): Promise<string[]> {
  const until = keptUntil(task);
  if (until === null) return [...sources];
  return Promise.all(
    sources.map(async (source, idx) => {
      const token = await signResultToken(config.signingSecret, {
        tenantId: tenant.id,
        incarnation: tenant.incarnation,
        task: task.id,
        idx,
        until,
      });
      return `${config.publicBaseUrl}${RESULT_URL_PATH}${token}/${resultName(source, idx)}`;
    }),
  );
}
