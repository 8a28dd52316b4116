// What a file is, read from its first bytes, never from the name or the type the client declared: the
// MP4/QuickTime `ftyp` box for videos, and the signatures of the image types EvoLink's files API takes.
// Pure: bytes in, a type out.

export type FileType =
  "video/mp4" | "video/quicktime" | "image/jpeg" | "image/png" | "image/gif" | "image/webp";

/** How many leading bytes `sniffType` needs to decide. */
export const SNIFF_BYTES = 16;

export const EXTENSIONS: Record<FileType, string> = {
  "video/mp4": "mp4",
  "video/quicktime": "mov",
  "image/jpeg": "jpg",
  "image/png": "png",
  "image/gif": "gif",
  "image/webp": "webp",
};

const ascii = (bytes: Uint8Array, from: number, to: number) =>
  String.fromCharCode(...bytes.subarray(from, to));

/** The type of a file starting with `head` (at least SNIFF_BYTES of it, or all of a shorter file), or null. */
export function sniffType(head: Uint8Array): FileType | null {
  if (head.length >= 12 && ascii(head, 4, 8) === "ftyp") {
    const size = ((head[0]! << 24) | (head[1]! << 16) | (head[2]! << 8) | head[3]!) >>> 0;
    // A real ftyp box holds at least its major brand and minor version (16 bytes); 0 and 1 are the
    // "to end of file" and "64-bit size" escapes, which an ftyp box never uses.
    if (size < 16) return null;
    const brand = ascii(head, 8, 12);
    if (!/^[\x20-\x7e]{4}$/.test(brand)) return null;
    return brand === "qt  " ? "video/quicktime" : "video/mp4";
  }
  if (head.length >= 3 && head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return "image/jpeg";
  if (head.length >= 8 && [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a].every((b, i) => head[i] === b))
    return "image/png";
  if (head.length >= 6 && /^GIF8[79]a$/.test(ascii(head, 0, 6))) return "image/gif";
  if (head.length >= 12 && ascii(head, 0, 4) === "RIFF" && ascii(head, 8, 12) === "WEBP") return "image/webp";
  return null;
}

/**
 * True when a declared media type does not contradict the sniffed one. No declaration, or a generic one
 * (`application/octet-stream`), is fine; `video/mp4` on a QuickTime file (and the reverse) is too, since
 * phones label the two interchangeably; anything else is a mislabelled file.
 */
export function declaredTypeFits(declared: string | null | undefined, actual: FileType): boolean {
  const type = (declared ?? "").split(";")[0]!.trim().toLowerCase();
  if (type === "" || type === "application/octet-stream") return true;
  if (type === actual) return true;
  const videos = ["video/mp4", "video/quicktime"];
  if (videos.includes(type) && videos.includes(actual)) return true;
  return type === "image/jpg" && actual === "image/jpeg";
}
