// The answers of /api/v1/files/*: EvoLink's files-API envelope `{success, code, msg, data}`, and for errors
// both envelopes in one body — `{success:false, code:<status>, msg}` for clients written for EvoLink and
// reelgate's `error: {code, message, type}` to branch on. Rendered in one place: the files sub-app's onError.
import type { Context } from "hono";
import type { HttpEnv } from "../http/context";
import { ApiError } from "../http/errors";
import { onErrorShaped } from "../http/middleware";

export function filesOk<E extends HttpEnv>(c: Context<E>, data: unknown, msg = "success"): Response {
  return c.json({ success: true, code: 200, msg, data }, 200, { "cache-control": "no-store" });
}

/** The gateway's one error renderer, with the files API's envelope merged into the same body. */
export function filesOnError<E extends HttpEnv>(err: Error, c: Context<E>): Promise<Response> {
  return onErrorShaped(err, c, (rendered, body) => ({
    success: false,
    code: rendered.status,
    msg: body.error.message,
    ...body,
  }));
}

export function filesNotFound<E extends HttpEnv>(c: Context<E>): Response {
  throw new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}`);
}

/** The uniform answer for a file that does not exist, is not the caller's, or has expired. */
export function fileNotFound(): ApiError {
  return new ApiError("not_found", "File not found");
}
