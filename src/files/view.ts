// A file record as EvoLink's files API shows one (`FileData`): the R2 backend's `file_url` is a freshly
// signed gateway URL that expires with the file; the EvoLink backend's is EvoLink's own, unchanged.
import type { Context } from "hono";
import type { HttpEnv } from "../http/context";
import type { TenantRef } from "../state/client";
import { EXTENSIONS, type FileType } from "./sniff";
import { fileUrl, subTag, urlSafeName } from "./signed-url";
import type { FileRecord } from "./table";

export async function fileView<E extends HttpEnv>(
  c: Context<E>,
  f: FileRecord,
  tenant: TenantRef,
): Promise<Record<string, unknown>> {
  const config = c.get("config");
  let url = f.fileUrl ?? "";
  if (f.backend === "r2") {
    const ext = EXTENSIONS[f.mime as FileType] ?? "bin";
    url = await fileUrl(
      config.publicBaseUrl,
      config.signingSecret,
      {
        tenantId: tenant.id,
        incarnation: tenant.incarnation,
        fileId: f.id,
        subTag: f.sub === null ? null : await subTag(config.signingSecret, tenant.id, f.sub),
        expiresAt: f.expiresAt,
      },
      urlSafeName(f.fileName ?? f.id, ext),
    );
  }
  return {
    file_id: f.id,
    file_name: f.fileName ?? f.id,
    original_name: f.fileName ?? f.id,
    file_size: f.size,
    mime_type: f.mime ?? "application/octet-stream",
    upload_path: f.uploadPath ?? "",
    file_url: url,
    download_url: url,
    upload_time: new Date(f.createdAt).toISOString(),
    expires_at: new Date(f.expiresAt).toISOString(),
  };
}
