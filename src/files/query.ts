// The query of the files API's list, as a zod schema: the route validates with it (src/http/validate.ts)
// and its OpenAPI entry is generated from it. EvoLink's clients send `pageSize`; `page_size` is read when
// `pageSize` is absent (and only then: it is checked as `pageSize`).
import * as z from "../config/zod";
import { FILE_LIST_PAGE_MAX } from "../config/constants";
import { integer } from "../http/validate";

export const FileListQuery = z.pipe(
  z.transform((q: unknown): unknown => {
    const o = (q ?? {}) as Record<string, unknown>;
    return { ...o, pageSize: o.pageSize ?? o.page_size, page_size: undefined };
  }),
  z.object({
    page: integer(1, 1_000_000).default(1),
    pageSize: integer(1, FILE_LIST_PAGE_MAX).default(20),
    page_size: integer(1, FILE_LIST_PAGE_MAX).optional(),
  }),
);
