// The two ways of enforcing a tenant's limits, behind one interface, picked by QUOTA_STORE:
// `durable_object` (default) decides inside the tenant's Durable Object, in the same step that records the
// task — exact at any concurrency; `kv` decides from KV documents in the Worker — no Durable Object on the
// decision, but it over-admits under bursts (docs/quotas.md). Tasks, idempotency and the authoritative
// ledger live in the Durable Object either way.
import type { Env } from "../env";
import { ApiError } from "../http/errors";
import type { QuotaStoreName } from "../tasks/store";
import type { Tenant } from "../tenants/schema";
import { tenantState } from "../state/tenant-state";
import type { AdmitRequest, AdmitResult } from "./admission";
import { KvQuota } from "./kv-store";
import { admitted, type ScopeInput, toUnits } from "./policy";

export type Limits = AdmitRequest["limits"];

export function limitsOf(tenant: Tenant): Limits {
  return { tenant: tenant.quotas ?? {}, user: tenant.user_quotas ?? {} };
}

export interface QuotaStore {
  readonly name: QuotaStoreName;
  /** Decides and, when admitted, records the task (`request.enforce` is set by the store). */
  admit(request: Omit<AdmitRequest, "enforce">): Promise<AdmitResult>;
  /** The upstream reserved `reserved` credits for an admitted task (the Durable Object already knows). */
  raised(sub: string | null, taskId: string, reserved: number, now: number): Promise<void>;
  /** The caller's scopes (tenant, and user when `sub` is set) with their limits and state. */
  usage(sub: string | null, limits: Limits, now: number): Promise<ScopeInput[]>;
}

export function quotaStore(name: QuotaStoreName, env: Env, tenantId: string): QuotaStore {
  return name === "kv" ? kvStore(env, tenantId) : durableObjectStore(env, tenantId);
}

function durableObjectStore(env: Env, tenantId: string): QuotaStore {
  const state = tenantState(env, tenantId);
  return {
    name: "durable_object",
    admit: (request) => state.admit({ ...request, enforce: true }),
    raised: async () => {},
    async usage(sub, limits, now) {
      const snapshot = await state.usage(sub, now, limits);
      const scopes: ScopeInput[] = [{ scope: "tenant", limits: limits.tenant, state: snapshot.tenant }];
      if (snapshot.user) scopes.push({ scope: "user", limits: limits.user, state: snapshot.user });
      return scopes;
    },
  };
}

function kvStore(env: Env, tenantId: string): QuotaStore {
  const state = tenantState(env, tenantId);
  const kv = new KvQuota(env.KV, tenantId);
  return {
    name: "kv",
    async admit(request) {
      const { task } = request;
      const units = toUnits(task.estimate);
      // Read and decide, then record: the gap between the two is where concurrent requests slip through.
      const { refusal, scopes } = await kv.check(task.sub, request.limits, units, task.createdAt);
      if (refusal) return { kind: "refused", refusal, scopes };
      const result = await state.admit({ ...request, enforce: false });
      if (result.kind !== "admitted") return result;
      try {
        await kv.record(task.sub, result.taskId, toUnits(task.reserved), task.createdAt);
      } catch {
        // KV refused the write (it allows one per second per key): the request cannot be counted, so it
        // is not forwarded either.
        await state.abortTask(result.taskId, Date.now());
        throw new ApiError(
          "rate_limit_exceeded",
          "Too many requests at once for the quota store; retry shortly",
          {
            headers: { "Retry-After": "1" },
          },
        );
      }
      return {
        ...result,
        scopes: scopes.map((s) => ({ ...s, state: admitted(s.state, units, task.createdAt) })),
      };
    },
    raised: (sub, taskId, reserved, now) => kv.raise(sub, taskId, toUnits(reserved), now),
    usage: (sub, limits, now) => kv.scopes(sub, limits, now),
  };
}
