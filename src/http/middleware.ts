// Request-scoped plumbing: a request id on every response, the parsed config and a logger in context,
// and the one error handler that renders ApiError (a ConfigError is a 503 `misconfigured`; anything else
// becomes a logged 500).
import type { Context, MiddlewareHandler } from "hono";
import { ConfigError, loadConfig } from "../config/env";
import type { HttpEnv } from "./context";
import { ApiError, errorResponse } from "./errors";
import { configLogger, createLogger } from "./log";

const REQUEST_ID = /^[A-Za-z0-9._:-]{8,128}$/;

export function requestContext(): MiddlewareHandler<HttpEnv> {
  return async function requestContext(c, next) {
    const incoming = c.req.header("x-request-id");
    const requestId = incoming && REQUEST_ID.test(incoming) ? incoming : crypto.randomUUID();
    c.set("requestId", requestId);
    // A bad config must still produce a JSON error with a request id, so it is caught here.
    try {
      const config = loadConfig(c.env);
      c.set("config", config);
      c.set("log", configLogger(config, { request_id: requestId }));
    } catch (err) {
      c.set("log", createLogger({ request_id: requestId }, "info", []));
      throw err instanceof ConfigError ? new ApiError("misconfigured", err.message) : err;
    }
    await next();
    c.header("x-request-id", requestId);
  };
}

export function onError<E extends HttpEnv>(err: Error, c: Context<E>): Response {
  const requestId = c.get("requestId");
  if (err instanceof ConfigError) err = new ApiError("misconfigured", err.message);
  if (err instanceof ApiError) {
    if (err.status >= 500)
      c.get("log")?.warn("request_failed", { code: err.code, status: err.status, message: err.message });
    return errorResponse(err, requestId);
  }
  c.get("log")?.error("unhandled_error", { name: err.name, message: err.message, stack: err.stack });
  return errorResponse(new ApiError("internal_error", "Internal server error"), requestId);
}

/**
 * The same error in another body: `shape` gets the rendered answer (its status and headers are kept) and
 * its `{error}` body, for routes whose clients expect another envelope (EvoLink's files API, its credits).
 */
export async function onErrorShaped<E extends HttpEnv>(
  err: Error,
  c: Context<E>,
  shape: (rendered: Response, body: { error: Record<string, unknown> }) => unknown,
): Promise<Response> {
  const rendered = onError(err, c);
  const body = (await rendered.json()) as { error: Record<string, unknown> };
  return new Response(JSON.stringify(shape(rendered, body)), {
    status: rendered.status,
    headers: rendered.headers,
  });
}

export function notFound<E extends HttpEnv>(c: Context<E>): Response {
  return errorResponse(
    new ApiError("not_found", `No route for ${c.req.method} ${c.req.path}`),
    c.get("requestId"),
  );
}
