// The JSON bodies of the files API's base64 and url uploads, as zod schemas: the url route parses with
// them (src/files/sources.ts), the base64 route's streaming parser accepts the same fields, and the OpenAPI
// description (src/files/routes.openapi.ts) is written with them. No Worker-only imports here.
import * as z from "../config/zod";

/** Each name is accepted in EvoLink's two spellings (snake_case and camelCase). */
const optionalFields = {
  upload_path: z
    .optional(z.string().check(z.maxLength(256)))
    .check(z.describe("Folder-like label kept with the file (also `uploadPath`); `videos` when not given.")),
  uploadPath: z.optional(z.string().check(z.maxLength(256))).check(z.describe("Same as `upload_path`.")),
  file_name: z
    .optional(z.string().check(z.maxLength(256)))
    .check(z.describe("The file's name (also `fileName`); else the name it came with, else its id.")),
  fileName: z.optional(z.string().check(z.maxLength(256))).check(z.describe("Same as `file_name`.")),
};

/** `{<key>, upload_path?, file_name?}` and nothing else (strict: an unknown field is a 400). */
export function jsonUploadSchema(key: "base64_data" | "file_url") {
  const value =
    key === "base64_data"
      ? z
          .string()
          .check(
            z.minLength(1),
            z.describe(
              "The file, base64 encoded: plain (`AAAAGGZ0eXA…`) or a data URL (`data:video/mp4;base64,AAAAGGZ0eXA…`).",
            ),
          )
      : z
          .string()
          .check(
            z.minLength(1),
            z.describe(
              "A public http(s) URL to fetch the file from (no private, loopback or link-local host, no credentials, at most 3 redirects).",
            ),
          );
  return z.strictObject({ [key]: value, ...optionalFields });
}
