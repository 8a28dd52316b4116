// The portal page's only way to the gateway: /portal/api/{tenant_id}/… with the link's token as a bearer
// token. The token comes in the URL's fragment (never sent to a server, never in a log); it is kept in this
// tab's sessionStorage and taken out of the address bar at once.
import { callJson } from "../console/api.js";

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

export const papi = (path, options) =>
  callJson(
    new URL(`/portal/api/${encodeURIComponent(tenantId)}${path}`, location.origin),
    options,
    sessionStorage.getItem(KEY),
    onRefused,
  );
