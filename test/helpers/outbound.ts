// An in-isolate "internet" for tests. The Worker under test runs in the same isolate as the tests, so
// replacing globalThis.fetch here routes its outbound calls: each host maps to a handler (the upstream
// simulator, a tenant's key server, a webhook receiver). An unrouted request throws, so a test can never
// reach the real network by accident, and `calls` records every request for assertions.
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
  globalThis.fetch = async (input: RequestInfo | URL, init?: RequestInit): Promise<Response> => {
    const request = new Request(input as RequestInfo, init);
    const host = new URL(request.url).host.toLowerCase();
    const handler = routes.get(host);
    if (!handler)
      throw new TypeError(`outbound fetch to unrouted host ${host} (${request.method} ${request.url})`);
    const body = request.body ? await request.clone().text() : "";
    calls.push({
      method: request.method,
      url: request.url,
      headers: Object.fromEntries(request.headers),
      body,
    });
    if (request.signal?.aborted) throw request.signal.reason ?? new DOMException("aborted", "AbortError");
    // Honour the caller's AbortSignal so timeouts behave as they would against a real server.
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
  };
}

export function uninstallOutbound(): void {
  globalThis.fetch = realFetch;
}
