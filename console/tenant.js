// One tenant: its overview and actions (edit, suspend/resume, rotate the webhook secret, delete behind a
// confirmation), and the tabs for usage, webhook deliveries and tasks.
import { useRef, useState } from "preact/hooks";
import { api, enc } from "./api.js";
import { Deliveries } from "./deliveries.js";
import { TaskDetail, Tasks } from "./tasks.js";
import { EditTenant, SecretOnce, loadTenant } from "./tenants.js";
import {
  ErrorBox,
  Loading,
  Status,
  alertThresholds,
  fmtNum,
  fmtTime,
  html,
  navigate,
  useLoad,
} from "./ui.js";
import { Usage } from "./usage.js";

/** DELETE calls one press makes while the answer is 202 (each deletes up to 20,000 stored files). */
const MAX_DELETE_CALLS = 50;

const TABS = [
  ["overview", "Overview"],
  ["usage", "Usage"],
  ["deliveries", "Deliveries"],
  ["tasks", "Tasks"],
];

/** The scope's alert thresholds as "80%, 100%", or "none". */
const alertList = (q) =>
  alertThresholds(q)
    .map((t) => `${t}%`)
    .join(", ") || "none";

/** "60 requests/min · 5 tasks in flight · 5,000 credits/month", or "unlimited". */
function limits(q = {}) {
  const parts = [
    q.requests_per_minute != null && `${fmtNum(q.requests_per_minute)} requests/min`,
    q.max_concurrent_tasks != null && `${fmtNum(q.max_concurrent_tasks)} tasks in flight`,
    q.monthly_credits != null && `${fmtNum(q.monthly_credits)} credits/month (alerts: ${alertList(q)})`,
  ].filter(Boolean);
  return parts.length ? parts.join(" · ") : "unlimited";
}

export function TenantPage({ id, tab, sub, query }) {
  const base = `#/tenants/${enc(id)}`;
  let body;
  if (tab === "edit") return html`<${EditTenant} id=${id} />`;
  if (tab === "usage") body = html`<${Usage} id=${id} query=${query} />`;
  else if (tab === "deliveries") body = html`<${Deliveries} id=${id} />`;
  else if (tab === "tasks")
    body = sub ? html`<${TaskDetail} id=${id} taskId=${sub} />` : html`<${Tasks} id=${id} query=${query} />`;
  else body = html`<${Overview} id=${id} />`;
  return html`<div>
    <p class="crumbs"><a href="#/tenants">Tenants</a> / <span>${id}</span></p>
    <nav class="tabs" aria-label="Tenant sections">
      ${TABS.map(
        ([t, label]) =>
          html`<a href=${`${base}/${t}`} aria-current=${tab === t ? "page" : undefined}>${label}</a>`,
      )}
    </nav>
    ${body}
  </div>`;
}

function Overview({ id }) {
  const { data: t, error, loading, reload } = useLoad(() => loadTenant(id), [id]);
  const { actionError, secret, notice, setStatus, rotate, remove } = useTenantActions(id, reload);
  const dialog = useRef(null);
  const [force, setForce] = useState(false);

  if (loading && !t) return html`<${Loading} what="the tenant" />`;
  if (error) return html`<${ErrorBox} error=${error} />`;
  return html`<section aria-labelledby="tenant-title">
    <div class="row">
      <h1 id="tenant-title">${t.name} <${Status} value=${t.status} /></h1>
    </div>
    <div class="actions" role="group" aria-label="Tenant actions">
      <a class="button" href=${`#/tenants/${enc(id)}/edit`}>Edit</a>
      ${
        t.status === "active"
          ? html`<button type="button" onClick=${() => setStatus("suspend")}>Suspend</button>`
          : html`<button type="button" onClick=${() => setStatus("resume")}>Resume</button>`
      }
      <button type="button" onClick=${rotate}>Rotate webhook secret</button>
      <button type="button" class="danger" onClick=${() => dialog.current?.showModal()}>Delete…</button>
    </div>
    <p aria-live="polite" class="notice">${notice}</p>
    <${ErrorBox} error=${actionError} />
    ${secret && html`<${SecretOnce} secret=${secret} />`}
    <${PortalLinks} id=${id} t=${t} reload=${reload} />
    <${TenantFacts} t=${t} />
    <${DeleteDialog} t=${t} dialog=${dialog} force=${force} setForce=${setForce} onDelete=${remove} />
  </section>`;
}

/**
 * The overview's actions. Each clears the last notice and error, then on success says what it did and
 * reloads the tenant; on failure the error is shown and the action's result is null.
 */
function useTenantActions(id, reload) {
  const [actionError, setActionError] = useState(null);
  const [secret, setSecret] = useState(null);
  const [notice, setNotice] = useState("");

  async function act(fn, message) {
    setActionError(null);
    setNotice("");
    try {
      const result = await fn();
      setNotice(message);
      reload();
      return result;
    } catch (err) {
      setActionError(err);
      return null;
    }
  }
  const setStatus = (action) =>
    act(
      () => api(`/admin/tenants/${enc(id)}/${action}`, { method: "POST" }),
      `Tenant ${action === "suspend" ? "suspended" : "resumed"}.`,
    );
  async function rotate() {
    const r = await act(
      () => api(`/admin/tenants/${enc(id)}/webhook-secret/rotate`, { method: "POST" }),
      "Secret rotated.",
    );
    if (r?.webhook?.secret) setSecret(r.webhook.secret);
  }
  async function remove(force) {
    const ok = await act(async () => {
      // 202: some of its stored files remain (each call deletes a bounded number) and the tenant still
      // exists, so call again until the 204.
      for (let call = 0; call < MAX_DELETE_CALLS; call++) {
        const query = force ? { force: "true" } : {};
        if ((await api(`/admin/tenants/${enc(id)}`, { method: "DELETE", query })) === null) return true;
        setNotice(`Deleting its stored files… (call ${call + 1})`);
      }
      const message = "Its stored files are still being deleted: delete again to carry on.";
      throw Object.assign(new Error(message), { code: "tenant_deleting" });
    }, "Tenant deleted.");
    if (ok) navigate("#/tenants");
  }
  return { actionError, secret, notice, setStatus, rotate, remove };
}

const PORTAL_CAPABILITIES = [
  ["redeliver", "Redeliver events"],
  ["rotate_secret", "Rotate the webhook secret"],
  ["edit_webhook", "Change the webhook URL"],
];

/**
 * The tenant portal (docs/portal.md): a link for the tenant's people (read, plus the actions ticked), shown
 * here once to pass on, and one button that revokes every link issued so far.
 */
function PortalLinks({ id, t, reload }) {
  const [caps, setCaps] = useState([]);
  const [ttl, setTtl] = useState("3600");
  const [link, setLink] = useState(null);
  const [notice, setNotice] = useState("");
  const [error, setError] = useState(null);
  async function create(e) {
    e.preventDefault();
    setError(null);
    setNotice("");
    try {
      const body = { ttl_seconds: Number(ttl), capabilities: ["read", ...caps] };
      setLink(await api(`/admin/tenants/${enc(id)}/portal-links`, { method: "POST", body }));
    } catch (err) {
      setError(err);
    }
  }
  async function revoke() {
    setError(null);
    try {
      await api(`/admin/tenants/${enc(id)}/portal-links/revoke`, { method: "POST" });
      setLink(null);
      setNotice("Every portal link issued so far is revoked.");
      reload();
    } catch (err) {
      setError(err);
    }
  }
  const tick = (cap) => (e) =>
    setCaps(e.currentTarget.checked ? [...caps, cap] : caps.filter((c) => c !== cap));
  return html`<section class="portal-links" aria-labelledby="portal-title">
    <h2 id="portal-title">Tenant portal</h2>
    <form class="row" onSubmit=${create}>
      <span>Reads usage, tasks, deliveries, webhook and uploads; also:</span>
      ${PORTAL_CAPABILITIES.map(
        ([cap, label]) =>
          html`<label class="inline"
            ><input type="checkbox" checked=${caps.includes(cap)} onChange=${tick(cap)} /> ${label}</label
          >`,
      )}
      <label for="portal-ttl">Valid for</label>
      <select id="portal-ttl" value=${ttl} onChange=${(e) => setTtl(e.currentTarget.value)}>
        <option value="3600">1 hour</option>
        <option value="28800">8 hours</option>
        <option value="86400">24 hours</option>
      </select>
      <button type="submit">Create portal link</button>
      <button type="button" class="danger" onClick=${revoke}>Revoke all portal links</button>
    </form>
    <p aria-live="polite" class="notice">${notice}</p>
    <${ErrorBox} error=${error} />
    ${
      link &&
      html`<div class="secret" role="status">
        <label for="portal-link"
          >Portal link (${link.capabilities.join(", ")}; until ${fmtTime(link.expires_at)})</label
        >
        <input
          id="portal-link"
          class="mono"
          readonly
          value=${link.url}
          onFocus=${(e) => e.currentTarget.select()}
        />
      </div>`
    }
  </section>`;
}

/** "framed by https://a.example; links issued until 2026-12-07 09:03:08Z revoked". */
function portalFacts(p) {
  const framed = p?.frame_ancestors?.length ? p.frame_ancestors.join(", ") : "no other site";
  const revoked = p?.links_valid_after ? `; links issued until ${fmtTime(p.links_valid_after)} revoked` : "";
  return `framed by ${framed}${revoked}`;
}

function TenantFacts({ t }) {
  return html`<dl class="facts">
    <dt>Id</dt>
    <dd class="mono">${t.id}</dd>
    <dt>Issuer</dt>
    <dd class="mono">${t.auth.issuer}</dd>
    <dt>Audience</dt>
    <dd class="mono">${[].concat(t.auth.audience).join(", ")}</dd>
    <dt>Keys</dt>
    <dd>${t.auth.key_source}${t.auth.jwks_uri ? html` <span class="mono">${t.auth.jwks_uri}</span>` : ""}</dd>
    <dt>Webhook</dt>
    <dd class="mono">${t.webhook.url ?? "none"}</dd>
    <dt>Secret</dt>
    <dd>
      ${t.webhook.secret_set ? "set" : "not set"}
      ${t.webhook.previous_secret_expires_at && ` (the previous one signs until ${fmtTime(t.webhook.previous_secret_expires_at)})`}
    </dd>
    <dt>Portal</dt>
    <dd>${portalFacts(t.portal)}</dd>
    <dt>Limits</dt>
    <dd>${limits(t.quotas)}</dd>
    <dt>Per-user limits</dt>
    <dd>${limits(t.user_quotas)}</dd>
    <dt>Policy</dt>
    <dd class="mono">${JSON.stringify(t.policy ?? {})}</dd>
    <dt>Created</dt>
    <dd>${fmtTime(t.created_at)}</dd>
    <dt>Updated</dt>
    <dd>${fmtTime(t.updated_at)}</dd>
  </dl>`;
}

/** The delete confirmation: a modal <dialog>, which the overview's "Delete…" button opens via `dialog`. */
function DeleteDialog({ t, dialog, force, setForce, onDelete }) {
  function submit(e) {
    e.preventDefault();
    dialog.current?.close();
    onDelete(force);
  }
  return html`<dialog ref=${dialog} aria-labelledby="delete-title">
    <form onSubmit=${submit}>
      <h2 id="delete-title">Delete ${t.id}?</h2>
      <p>
        Its tokens stop working at once, and its uploads and kept results are deleted. This cannot be undone.
      </p>
      <label class="inline">
        <input type="checkbox" checked=${force} onChange=${(e) => setForce(e.currentTarget.checked)} />
        Delete even with tasks in flight (force)
      </label>
      <div class="actions">
        <button type="button" onClick=${() => dialog.current?.close()}>Cancel</button>
        <button type="submit" class="danger">Delete tenant</button>
      </div>
    </form>
  </dialog>`;
}
