// One upload, whatever route it came by: the quota slot is taken first (nothing is read from a caller over
// quota), then the file's bytes are checked while they stream to the backend (EvoLink's files API or R2),
// then the record is committed in the tenant's Durable Object. Any failure releases the slot and leaves
// no stored bytes behind.
import type { Context } from "hono";
import { FILE_TTL_MS } from "../config/constants";
import type { TenantEnv } from "../auth/principal";
import { ApiError } from "../http/errors";
import { tenantObject } from "../state/client";
import { base32, randomBytes } from "../util/hmac";
import { asUpstreamFile, filesApi, multipartBody } from "./evolink";
import { type Caps, type Checked, checkFile } from "./limits";
import { uploadLimits, uploadRefusalError } from "./quota";
import { putChunks } from "../http/r2";
import { r2Key } from "./r2";
import { EXTENSIONS } from "./sniff";
import type { FileRecord } from "./table";
import { fileView } from "./view";

export interface Fields {
  fileName?: string;
  uploadPath?: string;
}

export interface Source {
  declaredType: string | null;
  chunks: AsyncIterable<Uint8Array>;
  fields: Fields;
  /** The name the file came with (a multipart part's filename, a URL's last segment), when no file_name. */
  defaultName?: string;
  /** Fields that arrive after the file (multipart parts following it); read once the file is through. */
  trailing?: () => Promise<Fields>;
}

export function newFileId(): string {
  return `file_${base32(randomBytes(15))}`;
}

/**
 * Takes a quota slot for a new file (refusing before any byte is read when `declaredBytes`, 0 for unknown,
 * does not fit), runs `work` under the resulting caps, and answers with the committed file. A failure
 * releases the slot.
 */
export async function withSlot(
  c: Context<TenantEnv>,
  declaredBytes: number,
  work: (id: string, caps: Caps) => Promise<FileRecord | null>,
): Promise<Response> {
  const { tenant, sub } = c.get("principal");
  const config = c.get("config");
  const backend = config.filesBackend;
  if (backend === "r2" && !c.env.UPLOADS)
    throw new ApiError(
      "misconfigured",
      "Gateway misconfigured: FILES_BACKEND=r2 needs an R2 binding named UPLOADS",
    );
  const state = tenantObject(c.env, tenant);
  const id = newFileId();
  const now = Date.now();
  const reserved = await state.filesReserve({
    id,
    sub: sub ?? null,
    backend,
    declaredBytes,
    limits: uploadLimits(tenant, backend),
    now,
  });
  if (reserved.kind === "refused") {
    c.get("log").info("upload_quota_refused", { tenant_id: tenant.id, limit: reserved.refusal.limit });
    throw uploadRefusalError(reserved.refusal, now);
  }
  const caps: Caps = { maxBytes: config.maxUploadBytes };
  const budget = reserved.budget;
  if (budget && budget.max - budget.used < config.maxUploadBytes) {
    const left = budget.max - budget.used;
    const refusal = { ...budget, limit: "monthly_upload_bytes" as const, needed: left + 1 };
    caps.quota = { bytes: left, error: () => uploadRefusalError(refusal, Date.now()) };
  }
  let stored: FileRecord | null;
  try {
    stored = await work(id, caps);
  } catch (err) {
    await state.filesRelease(id);
    throw err;
  }
  if (!stored) throw new ApiError("internal_error", "The upload could not be recorded");
  c.get("log").info("file_uploaded", { tenant_id: tenant.id, file_id: id, size: stored.size, backend });
  return c.json(
    {
      success: true,
      code: 200,
      msg: "File uploaded successfully",
      data: await fileView(c, stored, tenant),
    },
    200,
    { "cache-control": "no-store" },
  );
}

/** Uploads the file `open()` yields, checked while it streams to the configured backend. */
export function runUpload(
  c: Context<TenantEnv>,
  declaredBytes: number,
  open: () => Promise<Source>,
): Promise<Response> {
  return withSlot(c, declaredBytes, async (id, caps) => {
    const source = await open();
    const checked = await checkFile(source.chunks, source.declaredType, caps);
    const ext = EXTENSIONS[checked.type];
    const name = (f: Fields) => f.fileName?.trim() || source.defaultName?.trim() || `${id}.${ext}`;
    if (c.get("config").filesBackend === "evolink") return forwardToEvolink(c, id, checked, source, name);
    const bucket = c.env.UPLOADS!;
    const key = r2Key(c.get("principal").tenant.id, id);
    await putChunks(bucket, key, checked.chunks, checked.type);
    let fields: Fields;
    try {
      fields = { ...source.fields, ...(await source.trailing?.()) };
    } catch (err) {
      await bucket.delete(key); // a bad field after the file: nothing stays stored
      throw err;
    }
    const stored = await tenantObject(c.env, c.get("principal").tenant).filesCommit(id, {
      size: checked.size(),
      mime: checked.type,
      fileName: name(fields),
      uploadPath: fields.uploadPath?.trim() || "videos",
      upstreamId: null,
      fileUrl: null,
      expiresAt: Date.now() + FILE_TTL_MS,
    });
    if (!stored) await bucket.delete(key);
    return stored;
  });
}

async function forwardToEvolink(
  c: Context<TenantEnv>,
  id: string,
  checked: Checked,
  source: Source,
  name: (f: Fields) => string,
): Promise<FileRecord | null> {
  const boundary = `reelgate-${base32(randomBytes(12))}`;
  let failure: ApiError | undefined;
  let trailing: Fields = {};
  const fields = source.fields;
  const noting = async function* <T>(inner: AsyncIterable<T>) {
    try {
      yield* inner;
    } catch (err) {
      if (err instanceof ApiError) failure = err;
      throw err;
    }
  };
  // Fields after the file in the client's form go after it upstream too, once they have been read.
  const after = async (): Promise<[string, string][]> => {
    try {
      trailing = (await source.trailing?.()) ?? {};
    } catch (err) {
      if (err instanceof ApiError) failure = err;
      throw err;
    }
    return formFields(trailing);
  };
  const file = { name: name(fields), type: checked.type, chunks: noting(checked.chunks) };
  const body = multipartBody(formFields(fields), file, boundary, after);
  const data = asUpstreamFile(
    await filesApi(
      filesCall(c),
      "/api/v1/files/upload/stream",
      { method: "POST", body, contentType: `multipart/form-data; boundary=${boundary}` },
      () => failure,
    ),
  );
  return commitUpstream(c, id, data, { ...fields, ...trailing }, checked, name);
}

/** Records a file EvoLink now holds; its URL and expiry are EvoLink's. */
export async function commitUpstream(
  c: Context<TenantEnv>,
  id: string,
  data: Record<string, unknown>,
  fields: Fields,
  checked: { type: string; size(): number },
  name: (f: Fields) => string,
): Promise<FileRecord | null> {
  const file = asUpstreamFile(data);
  const expires = typeof file.expires_at === "string" ? Date.parse(file.expires_at) : NaN;
  return tenantObject(c.env, c.get("principal").tenant).filesCommit(id, {
    size: typeof file.file_size === "number" ? file.file_size : checked.size(),
    mime: typeof file.mime_type === "string" ? file.mime_type : checked.type,
    fileName: typeof file.file_name === "string" ? file.file_name : name(fields),
    uploadPath: typeof file.upload_path === "string" ? file.upload_path : (fields.uploadPath ?? ""),
    upstreamId: file.file_id,
    fileUrl: file.file_url,
    expiresAt: Number.isFinite(expires) ? expires : Date.now() + FILE_TTL_MS,
  });
}

function formFields(f: Fields): [string, string][] {
  const out: [string, string][] = [];
  if (f.uploadPath) out.push(["upload_path", f.uploadPath]);
  if (f.fileName) out.push(["file_name", f.fileName]);
  return out;
}

export function filesCall(c: Context<TenantEnv>) {
  return { config: c.get("config"), log: c.get("log"), requestId: c.get("requestId") };
}
