// Gateway task ids: `task-unified-<envelope, lowercase base32>`. The envelope (AES-GCM, key derived from SIGNING_SECRET) holds
// what a poll needs — the task's row in its tenant's object, the upstream's id, a hash of the creating `sub`,
// the creation time and the model — and is bound, as additional data, to the tenant and its incarnation. A
// poll opens it without any storage read; a foreign, forged, tampered or old-incarnation id does not open.
import { TASK_ID_PREFIX } from "../config/constants";
import { base32, base32Decode } from "../util/hmac";

/** What a task id carries. `subHash` is null for a task created by a token without `sub`. */
export interface TaskIdClaims {
  /** The task's row key in its tenant's object (`newRowId()`). */
  row: string;
  upstreamId: string;
  subHash: Uint8Array | null;
  /** Creation time, whole seconds. */
  createdSec: number;
  model: string;
}

/** Whom an id is bound to: the tenant and its incarnation (a re-created tenant has a new one). */
export interface TaskIdBinding {
  tenantId: string;
  incarnation: string;
}

const VERSION = 1;
const IV_BYTES = 12;
const ROW_BYTES = 10;
const SUB_HASH_BYTES = 8;
const FLAG_SUB = 1;
const FLAG_UNIFIED = 2;
/** Stable one-byte codes for known models (0: the name follows inline). Append only. */
const MODEL_CODES: readonly string[] = ["", "wan2.6-reference-video-flash", "wan2.6-reference-video"];
/** Longest id accepted before any decoding work (an envelope of a very long upstream id is ~300 chars). */
const MAX_ID_LENGTH = 512;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const keys = new Map<string, Promise<CryptoKey>>();

function sealingKey(secret: string): Promise<CryptoKey> {
  let key = keys.get(secret);
  if (!key) {
    key = (async () => {
      const base = await crypto.subtle.importKey("raw", encoder.encode(secret), "HKDF", false, ["deriveKey"]);
      return crypto.subtle.deriveKey(
        {
          name: "HKDF",
          hash: "SHA-256",
          salt: encoder.encode("reelgate"),
          info: encoder.encode("task-id/v1"),
        },
        base,
        { name: "AES-GCM", length: 256 },
        false,
        ["encrypt", "decrypt"],
      );
    })();
    keys.set(secret, key);
  }
  return key;
}

const additionalData = (b: TaskIdBinding) => encoder.encode(`task-id\n${b.tenantId}\n${b.incarnation}`);

/** A fresh row key for a task: 80 random bits as 20 hex characters. */
export function newRowId(): string {
  return [...crypto.getRandomValues(new Uint8Array(ROW_BYTES))]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("");
}

/** The first 8 bytes of SHA-256(sub): what an id remembers of its creator. */
export async function subHash(sub: string): Promise<Uint8Array> {
  const digest = await crypto.subtle.digest("SHA-256", encoder.encode(sub));
  return new Uint8Array(digest).subarray(0, SUB_HASH_BYTES);
}

/** True when a caller with `sub` (undefined: a token without `sub`) may see the task. */
export async function visibleTo(claims: TaskIdClaims, sub: string | undefined): Promise<boolean> {
  if (sub === undefined) return true;
  if (!claims.subHash) return false;
  const mine = await subHash(sub);
  let diff = 0;
  for (let i = 0; i < SUB_HASH_BYTES; i++) diff |= mine[i]! ^ claims.subHash[i]!;
  return diff === 0;
}

function encodeClaims(c: TaskIdClaims): Uint8Array {
  if (!/^[0-9a-f]{20}$/.test(c.row)) throw new Error("task row ids are 20 hex characters");
  const unified = c.upstreamId.startsWith(TASK_ID_PREFIX);
  const upstream = encoder.encode(unified ? c.upstreamId.slice(TASK_ID_PREFIX.length) : c.upstreamId);
  const code = Math.max(0, MODEL_CODES.indexOf(c.model));
  const model = code === 0 ? encoder.encode(c.model) : new Uint8Array(0);
  if (model.length > 255) throw new Error("model name too long for a task id");
  const out = new Uint8Array(
    2 +
      ROW_BYTES +
      4 +
      1 +
      (c.subHash ? SUB_HASH_BYTES : 0) +
      (code === 0 ? 1 + model.length : 0) +
      upstream.length,
  );
  const view = new DataView(out.buffer);
  let at = 0;
  out[at++] = VERSION;
  out[at++] = (c.subHash ? FLAG_SUB : 0) | (unified ? FLAG_UNIFIED : 0);
  for (let i = 0; i < ROW_BYTES; i++) out[at++] = parseInt(c.row.slice(2 * i, 2 * i + 2), 16);
  view.setUint32(at, c.createdSec);
  at += 4;
  out[at++] = code;
  if (c.subHash) {
    out.set(c.subHash.subarray(0, SUB_HASH_BYTES), at);
    at += SUB_HASH_BYTES;
  }
  if (code === 0) {
    out[at++] = model.length;
    out.set(model, at);
    at += model.length;
  }
  out.set(upstream, at);
  return out;
}

function decodeClaims(bytes: Uint8Array): TaskIdClaims | null {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 2 + ROW_BYTES + 4 + 1 + 1 || bytes[0] !== VERSION) return null;
  const flags = bytes[1]!;
  let at = 2;
  const row = [...bytes.subarray(at, at + ROW_BYTES)].map((b) => b.toString(16).padStart(2, "0")).join("");
  at += ROW_BYTES;
  const createdSec = view.getUint32(at);
  at += 4;
  const code = bytes[at++]!;
  let sub: Uint8Array | null = null;
  if (flags & FLAG_SUB) {
    sub = bytes.slice(at, at + SUB_HASH_BYTES);
    at += SUB_HASH_BYTES;
  }
  let model = MODEL_CODES[code];
  try {
    if (code === 0) {
      const length = bytes[at++] ?? 0;
      model = decoder.decode(bytes.subarray(at, at + length));
      at += length;
    }
    const rest = decoder.decode(bytes.subarray(at));
    if (model === undefined || !rest || at > bytes.length) return null;
    const upstreamId = flags & FLAG_UNIFIED ? TASK_ID_PREFIX + rest : rest;
    return { row, upstreamId, subHash: sub, createdSec, model };
  } catch {
    return null;
  }
}

/** Mints the id of a task the upstream accepted. */
export async function sealTaskId(
  secret: string,
  binding: TaskIdBinding,
  claims: TaskIdClaims,
): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(IV_BYTES));
  const sealed = await crypto.subtle.encrypt(
    { name: "AES-GCM", iv, additionalData: additionalData(binding) },
    await sealingKey(secret),
    encodeClaims(claims),
  );
  const out = new Uint8Array(IV_BYTES + sealed.byteLength);
  out.set(iv);
  out.set(new Uint8Array(sealed), IV_BYTES);
  return TASK_ID_PREFIX + base32(out);
}

/** The claims of an id minted for `binding`, or null for anything else (no storage is read). */
export async function openTaskId(
  secret: string,
  binding: TaskIdBinding,
  id: string,
): Promise<TaskIdClaims | null> {
  if (id.length > MAX_ID_LENGTH || !id.startsWith(TASK_ID_PREFIX)) return null;
  const bytes = base32Decode(id.slice(TASK_ID_PREFIX.length));
  if (!bytes || bytes.length < IV_BYTES + 16 + 1) return null;
  try {
    const plain = await crypto.subtle.decrypt(
      { name: "AES-GCM", iv: bytes.subarray(0, IV_BYTES), additionalData: additionalData(binding) },
      await sealingKey(secret),
      bytes.subarray(IV_BYTES),
    );
    return decodeClaims(new Uint8Array(plain));
  } catch {
    return null;
  }
}
