// The portal page's only way to the gateway: /portal/api/{tenant_id}/… with the link's token as a bearer
// token. The token comes in the URL's fragment (never sent to a server, never in a log); it is kept in this
// tab's sessionStorage and taken out of the address bar at once.
import { ApiFailure } from "../console/api.js";

export const tenantId = decodeURIComponent(location.pathname.split("/")[2] ?? "");
const KEY = `reelgate.portal.${tenantId}`;

/** Takes the token from the fragment (if any) into sessionStorage and out of the address bar. */
export function adoptToken() {
  const fromHash = location.hash.slice(1);
  if (fromHash) {
    sessionStorage.setItem(KEY, fromHash);
    history.replaceState(null, "", location.pathname + location.search);
  }
  return sessionStorage.getItem(KEY);
}

export const forgetToken = () => sessionStorage.removeItem(KEY);

const onRefused = new Set();
export const whenRefused = (fn) => onRefused.add(fn);

export async function papi(path, { method = "GET", body, query } = {}) {
  const url = new URL(`/portal/api/${encodeURIComponent(tenantId)}${path}`, location.origin);
  for (const [k, v] of Object.entries(query ?? {}))
    if (v !== undefined && v !== "") url.searchParams.set(k, v);
  const headers = { authorization: `Bearer ${sessionStorage.getItem(KEY) ?? ""}` };
  if (body !== undefined) headers["content-type"] = "application/json";
  const res = await fetch(url, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const failure = new ApiFailure(res.status, data?.error);
    if (res.status === 401) for (const fn of onRefused) fn(failure);
    throw failure;
  }
  return data;
}
