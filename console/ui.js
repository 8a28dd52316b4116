// Small shared pieces of the console: htm bound to Preact, the hash router, formatting, and the
// components every page uses (errors, status badges, a loader hook).
import { h } from "preact";
import { useCallback, useEffect, useState } from "preact/hooks";
import htm from "htm";

export const html = htm.bind(h);

export function navigate(hash) {
  location.hash = hash;
}

export function useRoute() {
  const [hash, setHash] = useState(location.hash || "#/tenants");
  useEffect(() => {
    const on = () => setHash(location.hash || "#/tenants");
    addEventListener("hashchange", on);
    return () => removeEventListener("hashchange", on);
  }, []);
  const [path, search = ""] = hash.slice(1).split("?");
  return {
    parts: path.split("/").filter(Boolean).map(decodeURIComponent),
    query: new URLSearchParams(search),
  };
}

/** Loads `fn()` when `deps` change; returns { data, error, loading, reload }. */
export function useLoad(fn, deps) {
  const [state, setState] = useState({ data: null, error: null, loading: true });
  const load = useCallback(() => {
    setState((s) => ({ ...s, loading: true }));
    fn().then(
      (data) => setState({ data, error: null, loading: false }),
      (error) => setState({ data: null, error, loading: false }),
    );
  }, deps);
  useEffect(load, [load]);
  return { ...state, reload: load };
}

/** A quota scope's `alert_thresholds` (percentages of `monthly_credits`); the gateway's default when unset. */
export const alertThresholds = (q) => q?.alert_thresholds ?? [80, 100];

export const fmtTime = (iso) =>
  iso ? new Date(iso).toISOString().replace("T", " ").slice(0, 19) + "Z" : "—";
export const fmtUnix = (s) => (s == null ? "—" : fmtTime(new Date(s * 1000).toISOString()));
export const fmtNum = (n) =>
  n == null ? "—" : Number(n).toLocaleString("en-US", { maximumFractionDigits: 2 });

/** Bytes in decimal units (kB, MB, GB: 1000s, as storage is billed), the exact count beside small ones. */
export function fmtBytes(n) {
  if (n == null) return "—";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let i = 0;
  let v = Number(n);
  while (v >= 1000 && i < units.length - 1) {
    v /= 1000;
    i++;
  }
  return i === 0 ? `${v} B` : `${v.toLocaleString("en-US", { maximumFractionDigits: 1 })} ${units[i]}`;
}

export function ErrorBox({ error }) {
  if (!error) return null;
  return html`<div class="error" role="alert">
    <strong>${error.code ?? "error"}</strong>: ${error.message}
  </div>`;
}

export function Status({ value }) {
  return html`<span class=${`badge badge-${value}`}>${value}</span>`;
}

export function Loading({ what }) {
  return html`<p class="notice" aria-live="polite">Loading ${what}…</p>`;
}

/**
 * Cursor paging: `cursors` is the stack of pages seen (null first), `next` the cursor of the page after.
 * `showPage` adds "Page N" between the buttons.
 */
export function CursorPager({ label, back, forward, showPage = false, cursors, setCursors, next }) {
  return html`<nav class="pager" aria-label=${label}>
    <button type="button" disabled=${cursors.length === 1} onClick=${() => setCursors(cursors.slice(0, -1))}>
      ${back}
    </button>
    ${showPage ? html`<span>Page ${cursors.length}</span>` : null}
    <button type="button" disabled=${!next} onClick=${() => setCursors([...cursors, next])}>
      ${forward}
    </button>
  </nav>`;
}
