// The console's only way to the gateway: the documented admin API, with the operator's token from
// sessionStorage as a bearer token (never a cookie, never in a URL). Errors come back as ApiFailure with
// the API's stable `code`, `message` and, for field errors, `param`.
const TOKEN_KEY = "reelgate.adminToken";

export const token = {
  get: () => sessionStorage.getItem(TOKEN_KEY),
  set: (value) => sessionStorage.setItem(TOKEN_KEY, value),
  clear: () => sessionStorage.removeItem(TOKEN_KEY),
};

export class ApiFailure extends Error {
  constructor(status, error) {
    super(error?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = error?.code ?? "http_error";
    this.param = error?.param;
  }
}

/** Listeners told when the token is refused, so the app can ask for it again. */
const onUnauthorized = new Set();
export const whenUnauthorized = (fn) => onUnauthorized.add(fn);

export const api = (path, options) =>
  callJson(new URL(path, location.origin), options, token.get(), onUnauthorized);

/**
 * One call to the gateway, the console's and the tenant portal's (portal/api.js): `query` added to `url`,
 * `bearer` sent as the token, the JSON answer returned (null for none). A failure throws ApiFailure; a 401
 * is told to each of `refused` first.
 */
export async function callJson(url, { method = "GET", body, query } = {}, bearer, refused) {
  for (const [k, v] of Object.entries(query ?? {}))
    if (v !== undefined && v !== "") url.searchParams.set(k, v);
  const headers = { authorization: `Bearer ${bearer ?? ""}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const failure = new ApiFailure(res.status, data?.error);
    if (res.status === 401) for (const fn of refused) fn(failure);
    throw failure;
  }
  return data;
}

export const enc = encodeURIComponent;
