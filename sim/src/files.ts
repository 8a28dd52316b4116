// The simulator's files API (EvoLink's files-api, README §7 and files/*.json): stream, base64 and url
// uploads, quota, list and delete, with the files API's own envelope `{success, code, msg, data}` and its
// error envelope `{success:false, code, msg}`. Strict: unknown fields, unsupported types, files over 100 MB
// and bodies that do not match the OpenAPI request schemas (when the contract is at hand) are refused.
import { validateWith } from "./contract";
import type { FaultStatus } from "./types";

export const FILES_PREFIX = "/api/v1/files";
export const FILES_MAX_BYTES = 100 * 1024 * 1024;
export const FILES_DEFAULT_QUOTA = 2000;
const TTL_MS = 72 * 60 * 60_000;
const TYPES = [
  "image/jpeg",
  "image/png",
  "image/gif",
  "image/webp",
  "video/mp4",
  "video/quicktime",
  "video/webm",
];
const STREAM_FIELDS = new Set(["file", "upload_path", "uploadPath", "file_name", "fileName"]);

export interface SimFile {
  file_id: string;
  file_name: string;
  original_name: string;
  file_size: number;
  mime_type: string;
  upload_path: string;
  file_url: string;
  download_url: string;
  upload_time: string;
  expires_at: string;
}

const FAULT_MESSAGES: Record<FaultStatus, string> = {
  401: "Invalid or expired token",
  402: "Insufficient quota. Please top up your account.",
  403: "Access denied",
  429: "Too many requests, please try again later",
  500: "Internal server error",
  503: "Service temporarily unavailable",
};

export function filesError(status: number, msg: string, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify({ success: false, code: status, msg }), {
    status,
    headers: { "content-type": "application/json", ...headers },
  });
}

export function filesFault(status: FaultStatus, retryAfterSeconds = 60): Response {
  return filesError(
    status,
    FAULT_MESSAGES[status],
    status === 429 ? { "retry-after": String(retryAfterSeconds) } : {},
  );
}

function ok(data: unknown, msg = "success"): Response {
  return new Response(JSON.stringify({ success: true, code: 200, msg, data }), {
    headers: { "content-type": "application/json" },
  });
}

export class SimFiles {
  readonly files = new Map<string, SimFile>();
  private counter = 0;

  constructor(
    private readonly now: () => number,
    private readonly contract: Record<string, unknown> | null,
    private readonly maxBytes = FILES_MAX_BYTES,
    private readonly maxFiles = FILES_DEFAULT_QUOTA,
  ) {}

  reset(): void {
    this.files.clear();
  }

  async handle(request: Request, path: string, url: URL): Promise<Response> {
    const route = `${request.method} ${path}`;
    switch (route) {
      case "POST /upload/stream":
        return this.stream(request);
      case "POST /upload/base64":
        return this.json(request, "base64");
      case "POST /upload/url":
        return this.json(request, "url");
      case "GET /quota":
        return ok({
          user_group: "default",
          used_files: this.files.size,
          max_files: this.maxFiles,
          remain_files: Math.max(0, this.maxFiles - this.files.size),
          is_custom: this.maxFiles !== FILES_DEFAULT_QUOTA,
          quota_reason: this.maxFiles !== FILES_DEFAULT_QUOTA ? "set by the simulator's filesMaxFiles" : "",
        });
      case "GET /list": {
        const page = Number(url.searchParams.get("page") ?? 1);
        const size = Number(url.searchParams.get("pageSize") ?? 20);
        if (!Number.isInteger(page) || page < 1 || !Number.isInteger(size) || size < 1 || size > 100)
          return filesError(400, "page must be >= 1 and pageSize between 1 and 100");
        const all = [...this.files.values()].reverse();
        return ok({
          files: all.slice((page - 1) * size, page * size),
          total: all.length,
          page,
          pageSize: size,
        });
      }
    }
    const del = /^\/([^/]+)$/.exec(path);
    if (request.method === "DELETE" && del) {
      const id = decodeURIComponent(del[1]!);
      if (!this.files.delete(id)) return filesError(404, "File not found");
      return ok({ file_id: id }, "File deleted successfully");
    }
    return filesError(404, `No route for ${request.method} ${FILES_PREFIX}${path}`);
  }

  private async stream(request: Request): Promise<Response> {
    if (!/^multipart\/form-data\s*;\s*boundary=/i.test(request.headers.get("content-type") ?? ""))
      return filesError(400, "Content-Type must be multipart/form-data");
    let form: FormData;
    try {
      form = await request.formData();
    } catch {
      return filesError(400, "Malformed multipart body");
    }
    for (const key of form.keys())
      if (!STREAM_FIELDS.has(key)) return filesError(400, `Unknown field: ${key}`);
    const files = form.getAll("file");
    if (files.length !== 1 || typeof files[0] === "string")
      return filesError(400, "Exactly one file is required");
    const file = files[0] as File;
    const name = text(form, "file_name", "fileName") ?? file.name;
    return this.store(file.size, file.type, name, text(form, "upload_path", "uploadPath"));
  }

  private async json(request: Request, kind: "base64" | "url"): Promise<Response> {
    if (!/^application\/json\b/i.test(request.headers.get("content-type") ?? ""))
      return filesError(400, "Content-Type must be application/json");
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(await request.text()) as Record<string, unknown>;
    } catch {
      return filesError(400, "Body must be valid JSON");
    }
    if (this.contract) {
      const file = `files/openapi-files-upload-${kind}.json`;
      const schema = kind === "base64" ? "Base64UploadRequest" : "UrlUploadRequest";
      const problems = validateWith(this.contract, file, schema, body);
      if (problems.length > 0) return filesError(400, `Invalid request: ${problems.join("; ")}`);
    }
    const key = kind === "base64" ? "base64_data" : "file_url";
    const allowed = new Set([key, "upload_path", "uploadPath", "file_name", "fileName"]);
    for (const k of Object.keys(body)) if (!allowed.has(k)) return filesError(400, `Unknown field: ${k}`);
    const value = body[key];
    if (typeof value !== "string" || value === "") return filesError(400, `${key} is required`);
    const name = strOf(body.file_name ?? body.fileName);
    const path = strOf(body.upload_path ?? body.uploadPath);
    if (kind === "url") {
      let u: URL;
      try {
        u = new URL(value);
      } catch {
        return filesError(400, "file_url must be a URL");
      }
      if (u.protocol !== "https:" && u.protocol !== "http:")
        return filesError(400, "file_url must be http(s)");
      const ext = /\.(mp4|mov|webm|jpe?g|png|gif|webp)$/i.exec(u.pathname)?.[1]?.toLowerCase();
      const type = ext ? typeOfExt(ext) : "video/mp4";
      return this.store(1024, type, name ?? u.pathname.split("/").pop() ?? "file", path);
    }
    const m = /^data:([^;,]+);base64,(.*)$/s.exec(value);
    const data = m ? m[2]! : value;
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length % 4 === 1)
      return filesError(400, "base64_data is not base64");
    const size = Math.floor((data.replace(/=+$/, "").length * 3) / 4);
    return this.store(size, m?.[1] ?? "image/png", name ?? "file", path);
  }

  private store(size: number, type: string, name: string, path: string | undefined): Response {
    if (size === 0) return filesError(400, "File is empty");
    if (size > this.maxBytes)
      return filesError(413, `File exceeds the ${this.maxBytes / 1024 / 1024}MB limit`);
    if (!TYPES.includes(type)) return filesError(400, `Unsupported file type: ${type || "unknown"}`);
    if (this.files.size >= this.maxFiles) return filesError(403, "File quota exhausted");
    const id = `file_sim${++this.counter}${Math.random().toString(36).slice(2, 8)}`;
    const folder = path ?? (type.startsWith("video/") ? "videos" : "images");
    const now = this.now();
    const file: SimFile = {
      file_id: id,
      file_name: name,
      original_name: name,
      file_size: size,
      mime_type: type,
      upload_path: folder,
      file_url: `https://files.evolink.ai/${folder}/${id}/${encodeURIComponent(name)}`,
      download_url: `https://files.evolink.ai/api/v1/files/download/${id}`,
      upload_time: new Date(now).toISOString(),
      expires_at: new Date(now + TTL_MS).toISOString(),
    };
    this.files.set(id, file);
    return ok(file, "File uploaded successfully");
  }
}

function text(form: FormData, a: string, b: string): string | undefined {
  const v = form.get(a) ?? form.get(b);
  return typeof v === "string" ? v : undefined;
}

function strOf(v: unknown): string | undefined {
  return typeof v === "string" ? v : undefined;
}

function typeOfExt(ext: string): string {
  const map: Record<string, string> = {
    mp4: "video/mp4",
    mov: "video/quicktime",
    webm: "video/webm",
    jpg: "image/jpeg",
    jpeg: "image/jpeg",
    png: "image/png",
    gif: "image/gif",
    webp: "image/webp",
  };
  return map[ext] ?? "application/octet-stream";
}
