// An in-isolate "internet" for tests. The Worker under test runs in the same isolate as the tests, so
// replacing globalThis.fetch here routes its outbound calls: each host maps to a handler (the upstream
// simulator, a tenant's key server, a webhook receiver). An unrouted request throws, so a test can never
// reach the real network by accident; `calls` records every attempt, routed or not, and every redirect hop
// followed, for assertions.
type Handler = (request: Request) => Response | Promise<Response>;

export interface RecordedCall {
  method: string;
  url: string;
  headers: Record<string, string>;
  body: string;
}

const realFetch = globalThis.fetch;
const routes = new Map<string, Handler>();
export const calls: RecordedCall[] = [];

/** Routes every request whose URL host (host:port) equals `host` to `handler`, until `resetOutbound()`. */
export function route(host: string, handler: Handler): void {
  routes.set(host.toLowerCase(), handler);
}

export function unroute(host: string): void {
  routes.delete(host.toLowerCase());
}

export function resetOutbound(): void {
  routes.clear();
  calls.length = 0;
}

/** Calls recorded for a host (all hosts when omitted). */
export function callsTo(host?: string): RecordedCall[] {
  return host ? calls.filter((c) => new URL(c.url).host === host.toLowerCase()) : [...calls];
}

export function installOutbound(): void {
  globalThis.fetch = (input: RequestInfo | URL, init?: RequestInit): Promise<Response> =>
    send(new Request(input as RequestInfo, init), 0);
}

/** The Fetch standard's limit on followed redirects. */
const MAX_REDIRECTS = 20;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/**
 * One attempt, recorded before anything else — an unrouted host is a call the code under test made, and a
 * test asserting "never called" must see it — then redirects handled as the platform does: followed
 * (and each hop recorded) unless the caller asked for `redirect: "manual"`, refused with "error".
 */
async function send(request: Request, hops: number): Promise<Response> {
  const body = request.body ? new TextDecoder().decode(await request.clone().arrayBuffer()) : "";
  calls.push({
    method: request.method,
    url: request.url,
    headers: Object.fromEntries(request.headers),
    body,
  });
  const host = new URL(request.url).host.toLowerCase();
  const handler = routes.get(host);
  if (!handler)
    throw new TypeError(`outbound fetch to unrouted host ${host} (${request.method} ${request.url})`);
  const response = await answer(request, handler);
  const location = response.headers.get("location");
  if (!REDIRECTS.has(response.status) || location === null || request.redirect === "manual") return response;
  if (request.redirect === "error")
    throw new TypeError(`redirect from ${request.url} refused (redirect: "error")`);
  if (hops >= MAX_REDIRECTS) throw new TypeError(`too many redirects from ${request.url}`);
  await response.body?.cancel();
  // 303, and 301/302 after a POST, continue as a body-less GET; every other redirect repeats the request.
  const asGet =
    (response.status === 303 && request.method !== "GET" && request.method !== "HEAD") ||
    ((response.status === 301 || response.status === 302) && request.method === "POST");
  const headers = new Headers(request.headers);
  if (asGet) for (const name of ["content-type", "content-length"]) headers.delete(name);
  const next = new Request(new URL(location, request.url), {
    method: asGet ? "GET" : request.method,
    headers,
    redirect: request.redirect,
    signal: request.signal,
    ...(asGet || !request.body ? {} : { body }),
  });
  return send(next, hops + 1);
}

/** The handler's answer, honouring the caller's AbortSignal so timeouts behave as against a real server. */
async function answer(request: Request, handler: Handler): Promise<Response> {
  if (request.signal?.aborted) throw request.signal.reason ?? new DOMException("aborted", "AbortError");
  const response = handler(request);
  if (!request.signal) return response;
  return await new Promise<Response>((resolve, reject) => {
    const onAbort = () => reject(request.signal.reason ?? new DOMException("aborted", "AbortError"));
    request.signal.addEventListener("abort", onAbort, { once: true });
    Promise.resolve(response).then(
      (r) => {
        request.signal.removeEventListener("abort", onAbort);
        resolve(r);
      },
      (e) => {
        request.signal.removeEventListener("abort", onAbort);
        reject(e);
      },
    );
  });
}

export function uninstallOutbound(): void {
  globalThis.fetch = realFetch;
}
