// How long a tenant's new tasks keep their results: its `results.retention_days` (default
// DEFAULT_RESULT_RETENTION_DAYS), never past the operator's MAX_RESULT_RETENTION_DAYS. Fixed on the task at
// its creation, so a later change of the setting applies to tasks created after it (docs/results.md).
import { DEFAULT_RESULT_RETENTION_DAYS } from "../config/constants";
import type { Config } from "../config/env";
import type { Tenant } from "../tenants/schema";

export function retentionDays(
  tenant: Pick<Tenant, "results">,
  config: Pick<Config, "maxResultRetentionDays">,
): number {
  return Math.min(
    tenant.results?.retention_days ?? DEFAULT_RESULT_RETENTION_DAYS,
    config.maxResultRetentionDays,
  );
}
