// QUOTA_STORE=kv: a scope's counters as one JSON document in KV, read, checked and written back by the
// Worker that handles the request. KV has no compare-and-set and is eventually consistent, so this is a
// read-modify-write race by construction: requests that read before any of them wrote all pass the check,
// and concurrent writes lose each other's updates. docs/quotas.md gives the over-admission measured.
import * as z from "zod";
import { DEFAULT_TASK_SECONDS, KV_QUOTA_DOC_TTL_S, RATE_WINDOW_MS } from "../config/constants";
import type { QuotaLimits } from "../tenants/schema";
import { base32 } from "../util/hmac";
import {
  decide,
  monthOf,
  type Refusal,
  type Scope,
  type ScopeInput,
  type ScopeState,
  windowOf,
} from "./policy";

/** `recent`: [admitted at, task id]; `open`: task id → [created at, reserved units]; `used`: month → units. */
const KvQuotaDocSchema = z.object({
  v: z.literal(1),
  recent: z.array(z.tuple([z.number(), z.string()])),
  open: z.record(z.string(), z.tuple([z.number(), z.number()])),
  used: z.record(z.string(), z.number()),
});
type KvQuotaDoc = z.infer<typeof KvQuotaDocSchema>;

const emptyDoc = (): KvQuotaDoc => ({ v: 1, recent: [], open: {}, used: {} });

export async function kvQuotaKey(tenantId: string, sub: string | null): Promise<string> {
  if (sub === null) return `quota:${tenantId}`;
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(sub));
  return `quota:${tenantId}:user:${base32(new Uint8Array(digest)).slice(0, 32)}`;
}

async function read(kv: KVNamespace, key: string): Promise<KvQuotaDoc> {
  const parsed = KvQuotaDocSchema.safeParse(await kv.get(key, "json"));
  return parsed.success ? parsed.data : emptyDoc();
}

async function write(kv: KVNamespace, key: string, doc: KvQuotaDoc, now: number): Promise<void> {
  // Keep only what a decision can still need: this window's admissions and the last few months.
  doc.recent = doc.recent.filter(([at]) => at > now - RATE_WINDOW_MS);
  const months = Object.keys(doc.used).sort().slice(-3);
  doc.used = Object.fromEntries(months.map((m) => [m, doc.used[m]!]));
  await kv.put(key, JSON.stringify(doc), { expirationTtl: KV_QUOTA_DOC_TTL_S });
}

/**
 * The document seen as a ScopeState for a scope limited to `rpm` requests per minute (the expected end of a
 * task is its creation + the default run time).
 */
export function docState(doc: KvQuotaDoc, now: number, rpm?: number): ScopeState {
  const month = monthOf(now);
  const open = Object.values(doc.open);
  const starts = open.map(([at]) => at);
  return {
    window: windowOf(
      doc.recent.map(([at]) => at),
      now,
      rpm,
    ),
    active: open.length,
    nextEndAt: starts.length ? Math.min(...starts) + DEFAULT_TASK_SECONDS * 1000 : null,
    usedUnits: doc.used[month] ?? 0,
    reservedUnits: open.filter(([at]) => monthOf(at) === month).reduce((sum, [, units]) => sum + units, 0),
  };
}

interface ScopeRef {
  scope: Scope;
  key: string;
  limits: QuotaLimits;
}

export class KvQuota {
  constructor(
    private readonly kv: KVNamespace,
    private readonly tenantId: string,
  ) {}

  private async refs(sub: string | null, limits: { tenant: QuotaLimits; user: QuotaLimits }) {
    const refs: ScopeRef[] = [
      { scope: "tenant", key: await kvQuotaKey(this.tenantId, null), limits: limits.tenant },
    ];
    if (sub !== null)
      refs.push({ scope: "user", key: await kvQuotaKey(this.tenantId, sub), limits: limits.user });
    return refs;
  }

  /** The scopes' states as KV shows them now. */
  async scopes(sub: string | null, limits: { tenant: QuotaLimits; user: QuotaLimits }, now: number) {
    const refs = await this.refs(sub, limits);
    const docs = await Promise.all(refs.map((r) => read(this.kv, r.key)));
    return refs.map((r, i): ScopeInput => ({
      scope: r.scope,
      limits: r.limits,
      state: docState(docs[i]!, now, r.limits.requests_per_minute),
    }));
  }

  /** The first limit the request breaks according to KV, or null. Writes nothing. */
  async check(
    sub: string | null,
    limits: { tenant: QuotaLimits; user: QuotaLimits },
    estimateUnits: number,
    now: number,
  ): Promise<{ refusal: Refusal | null; scopes: ScopeInput[] }> {
    const scopes = await this.scopes(sub, limits, now);
    return { refusal: decide(scopes, estimateUnits, now), scopes };
  }

  /** Counts an admitted task: one admission in the window, one task open with its reservation. */
  async record(sub: string | null, taskId: string, reservedUnits: number, now: number): Promise<void> {
    await this.update(sub, now, (doc) => {
      doc.recent.push([now, taskId]);
      doc.open[taskId] = [now, reservedUnits];
    });
  }

  /** The upstream reserved more than the estimate. */
  async raise(sub: string | null, taskId: string, reservedUnits: number, now: number): Promise<void> {
    await this.update(sub, now, (doc) => {
      const entry = doc.open[taskId];
      if (entry) entry[1] = Math.max(entry[1], reservedUnits);
    });
  }

  /**
   * The task ended (`chargedUnits` added to its creation month) or was aborted (it also leaves the rate
   * window). Idempotent: only a task still open is counted.
   */
  async end(
    sub: string | null,
    taskId: string,
    createdAt: number,
    chargedUnits: number,
    aborted: boolean,
    now: number,
  ): Promise<void> {
    await this.update(sub, now, (doc) => {
      if (!(taskId in doc.open)) return;
      delete doc.open[taskId];
      if (aborted) doc.recent = doc.recent.filter(([, id]) => id !== taskId);
      const month = monthOf(createdAt);
      if (chargedUnits > 0) doc.used[month] = (doc.used[month] ?? 0) + chargedUnits;
    });
  }

  private async update(sub: string | null, now: number, change: (doc: KvQuotaDoc) => void): Promise<void> {
    const keys = [await kvQuotaKey(this.tenantId, null)];
    if (sub !== null) keys.push(await kvQuotaKey(this.tenantId, sub));
    await Promise.all(
      keys.map(async (key) => {
        const doc = await read(this.kv, key);
        change(doc);
        await write(this.kv, key, doc, now);
      }),
    );
  }
}
