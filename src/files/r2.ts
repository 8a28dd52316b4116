// The R2 backend: files in the operator's bucket under `files/{tenant}/{file id}`. Writing a stream into R2 and
// serving an object with Range are src/http/r2.ts (kept results use them too).

export function r2Key(tenantId: string, fileId: string): string {
  return `files/${tenantId}/${fileId}`;
}
