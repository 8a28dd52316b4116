// The R2 backend: files in the operator's bucket under `files/{tenant}/{file id}`. Writing a stream into R2 and
// serving an object with Range are src/http/r2.ts (kept results use them too).
import { uploadsPrefix } from "../state/buckets";

/** Under the tenant's uploads prefix, which a tenant's deletion empties (src/state/buckets.ts). */
export function r2Key(tenantId: string, fileId: string): string {
  return `${uploadsPrefix(tenantId)}${fileId}`;
}
