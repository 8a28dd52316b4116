// Deleting an EvoLink-held file early (a task that used it ended and the tenant asked for
// `policy.delete_uploads_after_task`), from the tenant object's alarm, with the operator's key.
import type { Config } from "../config/env";
import { configLogger } from "../http/log";
import { filesApi } from "./evolink";

export async function deleteUpstreamFile(
  config: Config,
  tenantId: string,
  upstreamId: string,
): Promise<void> {
  const log = configLogger(config, { tenant_id: tenantId });
  const call = { config, log, requestId: crypto.randomUUID() };
  try {
    await filesApi(call, `/api/v1/files/${encodeURIComponent(upstreamId)}`, { method: "DELETE" });
  } catch (err) {
    // Not retried: EvoLink deletes the file itself when it expires (72 h).
    log.warn("files_upstream_delete_failed", { upstream_id: upstreamId, error: String(err) });
  }
}
