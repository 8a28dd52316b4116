// The tenant portal (docs/portal.md): one tenant's usage, tasks, webhook deliveries, webhook endpoint and
// uploads, for the tenant's own people, through /portal/api with the token of the link the operator issued.
// The console's pieces (htm + Preact, the usage chart, the one-time secret box, the styles) are reused; the
// page shows only the actions the link's capabilities allow (the server checks them again on every call).
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { SecretOnce } from "../console/tenants.js";
import { Chart, Meters, TopUsers } from "../console/usage.js";
import { ErrorBox, Loading, Status, fmtNum, fmtTime, fmtUnix, html, useLoad } from "../console/ui.js";
import "../console/style.css";
import { adoptToken, forgetToken, papi, tenantId, whenRefused } from "./api.js";

const SECTIONS = [
  ["usage", "Usage"],
  ["tasks", "Tasks"],
  ["deliveries", "Deliveries"],
  ["webhook", "Webhook"],
  ["uploads", "Uploads"],
];

function App() {
  const [token] = useState(adoptToken);
  const [refused, setRefused] = useState(!token);
  const [section, setSection] = useState("usage");
  const session = useLoad(() => (token ? papi("/session") : Promise.reject(null)), [token]);
  useEffect(() => {
    whenRefused(() => {
      forgetToken();
      setRefused(true);
    });
  }, []);
  if (refused)
    return html`<main id="main" class="gate">
      <h1>This link no longer works</h1>
      <p role="alert">It has expired or was revoked. Ask for a new portal link.</p>
    </main>`;
  if (session.loading) return html`<${Loading} what="the portal" />`;
  if (session.error) return html`<main id="main"><${ErrorBox} error=${session.error} /></main>`;
  const s = session.data;
  const can = (cap) => s.capabilities.includes(cap);
  let body;
  if (section === "usage") body = html`<${Usage} />`;
  else if (section === "tasks") body = html`<${Tasks} />`;
  else if (section === "deliveries") body = html`<${Deliveries} canRedeliver=${can("redeliver")} />`;
  else if (section === "webhook")
    body = html`<${Webhook} canEdit=${can("edit_webhook")} canRotate=${can("rotate_secret")} />`;
  else body = html`<${Uploads} />`;
  return html`<div>
    <header class="top">
      <span class="brand" id="portal-tenant">${s.name}</span>
      <nav aria-label="Portal sections">
        ${SECTIONS.map(
          ([id, label]) =>
            html`<button
              type="button"
              class="link"
              aria-current=${section === id ? "page" : undefined}
              onClick=${() => setSection(id)}
            >
              ${label}
            </button>`,
        )}
      </nav>
      <span class="hint">Link valid until ${fmtTime(s.expires_at)}</span>
    </header>
    <main id="main" tabindex="-1">${body}</main>
  </div>`;
}

function Usage() {
  const month = new Date().toISOString().slice(0, 7);
  const { data, error, loading } = useLoad(() => papi("/usage", { query: { month } }), []);
  // The chart draws the thresholds from a tenant's quotas, as in the console.
  const tenant = data && {
    quotas: { monthly_credits: data.alerts.monthly_credits, alert_thresholds: data.alerts.thresholds },
  };
  return html`<section aria-labelledby="usage-title">
    <h1 id="usage-title">Usage, ${month}</h1>
    <${ErrorBox} error=${error} />
    ${loading && html`<${Loading} what="usage" />`}
    ${
      data &&
      html`<${Meters} usage=${data} />
        <${Chart} days=${data.days} tenant=${tenant} />
        <h2>Top users</h2>
        <${TopUsers} users=${data.top_users} />`
    }
  </section>`;
}

function Tasks() {
  const [page, setPage] = useState(1);
  const [open, setOpen] = useState(null);
  const { data, error, loading } = useLoad(() => papi("/tasks", { query: { page, page_size: 20 } }), [page]);
  if (open) return html`<${TaskDetail} taskId=${open} back=${() => setOpen(null)} />`;
  const pages = data ? Math.max(1, Math.ceil(data.total / data.page_size)) : 1;
  return html`<section aria-labelledby="tasks-title">
    <h1 id="tasks-title">Tasks</h1>
    <${ErrorBox} error=${error} />
    ${loading && html`<${Loading} what="tasks" />`}
    ${
      data &&
      html`<table>
          <thead>
            <tr>
              <th scope="col">Task</th>
              <th scope="col">Status</th>
              <th scope="col">User</th>
              <th scope="col">Created</th>
              <th scope="col">Credits</th>
            </tr>
          </thead>
          <tbody>
            ${data.data.map(
              (t) =>
                html`<tr data-task=${t.id}>
                  <td>
                    <button type="button" class="link mono" onClick=${() => setOpen(t.id)}>${t.id}</button>
                  </td>
                  <td><${Status} value=${t.status} /></td>
                  <td class="mono whole">${t.sub ?? "—"}</td>
                  <td>${fmtUnix(t.created)}</td>
                  <td>${fmtNum(t.credits_used ?? t.credits_reserved)}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        ${data.data.length === 0 && html`<p class="notice">No tasks yet.</p>`}
        <nav class="pager" aria-label="Task pages">
          <button type="button" disabled=${page <= 1} onClick=${() => setPage(page - 1)}>Previous</button>
          <span>Page ${page} of ${pages}</span>
          <button type="button" disabled=${page >= pages} onClick=${() => setPage(page + 1)}>Next</button>
        </nav>`
    }
  </section>`;
}

function TaskDetail({ taskId, back }) {
  const { data: t, error, loading } = useLoad(() => papi(`/tasks/${encodeURIComponent(taskId)}`), [taskId]);
  return html`<section aria-labelledby="task-title">
    <p><button type="button" class="link" onClick=${back}>← All tasks</button></p>
    <h1 id="task-title" class="mono">${taskId}</h1>
    <${ErrorBox} error=${error} />
    ${loading && html`<${Loading} what="the task" />`}
    ${
      t &&
      html`<dl class="facts">
        <dt>Status</dt>
        <dd><${Status} value=${t.status} /></dd>
        <dt>User</dt>
        <dd class="mono">${t.sub ?? "—"}</dd>
        <dt>Created</dt>
        <dd>${fmtUnix(t.created)}</dd>
        <dt>Ended</dt>
        <dd>${fmtUnix(t.ended)}</dd>
        <dt>Credits charged</dt>
        <dd>${fmtNum(t.credits_used)}</dd>
        <dt>Results</dt>
        <dd id="task-results">
          ${t.results.length ? t.results.map((r, i) => html`<a href=${r} rel="noreferrer">Video ${i + 1}</a> `) : "none"}
        </dd>
        <dt>Error</dt>
        <dd class="mono">${t.error ? `${t.error.code}: ${t.error.message}` : "—"}</dd>
      </dl>`
    }
  </section>`;
}

// Issue 16 section 2 adds here, once its routes exist: a "Recover everything that failed since…" form
// (POST …/deliveries/recover, `redeliver`), shown beside Refresh when canRedeliver.
function Deliveries({ canRedeliver }) {
  const { data, error, loading, reload } = useLoad(() => papi("/deliveries", { query: { limit: 50 } }), []);
  const [queued, setQueued] = useState({});
  const [actionError, setActionError] = useState(null);
  async function redeliver(d) {
    setActionError(null);
    try {
      const r = await papi(`/deliveries/${encodeURIComponent(d.id)}/redeliver`, { method: "POST" });
      setQueued({ ...queued, [d.id]: r.status });
    } catch (err) {
      setActionError(err);
    }
  }
  return html`<section aria-labelledby="deliveries-title">
    <div class="row">
      <h1 id="deliveries-title">Webhook deliveries</h1>
      <button type="button" onClick=${() => (setQueued({}), reload())}>Refresh</button>
    </div>
    <${ErrorBox} error=${error || actionError} />
    ${loading && html`<${Loading} what="deliveries" />`}
    ${
      data &&
      (data.data.length === 0
        ? html`<p class="notice">No deliveries yet.</p>`
        : html`<table>
            <thead>
              <tr>
                <th scope="col">Time</th>
                <th scope="col">Event</th>
                <th scope="col">Attempt</th>
                <th scope="col">Status code</th>
                <th scope="col">Outcome</th>
                ${canRedeliver && html`<th scope="col"><span class="sr-only">Action</span></th>`}
              </tr>
            </thead>
            <tbody>
              ${data.data.map(
                (d) =>
                  html`<tr data-delivery=${d.id}>
                    <td>${fmtTime(d.attempted_at)}</td>
                    <td class="mono">${d.task_id ?? d.type}</td>
                    <td>${d.attempt ?? "DLQ"}${d.redelivery ? " (redelivery)" : ""}</td>
                    <td>${d.status_code ?? "—"}</td>
                    <td>
                      <${Status}
                        value=${d.outcome}
                      />${d.error ? html` <span class="hint">${d.error}</span>` : ""}
                    </td>
                    ${
                      canRedeliver &&
                      html`<td>
                        ${
                          queued[d.id]
                            ? html`<span role="status">Redelivery ${queued[d.id]}</span>`
                            : html`<button
                                type="button"
                                aria-label=${`Redeliver ${d.id}`}
                                onClick=${() => redeliver(d)}
                              >
                                Redeliver
                              </button>`
                        }
                      </td>`
                    }
                  </tr>`,
              )}
            </tbody>
          </table>`)
    }
  </section>`;
}

// Issue 16 section 2 adds here, once its routes exist: the endpoint's health (consecutive failures, first
// failure, last success, 24 h success ratio), a banner while it is disabled with "Re-enable" (`edit_webhook`),
// and "Send a test event" (`edit_webhook`).
function Webhook({ canEdit, canRotate }) {
  const { data, error, loading, reload } = useLoad(() => papi("/webhook"), []);
  const [url, setUrl] = useState(null);
  const [secret, setSecret] = useState(null);
  const [notice, setNotice] = useState("");
  const [actionError, setActionError] = useState(null);
  async function act(fn, message) {
    setActionError(null);
    setNotice("");
    try {
      const r = await fn();
      setNotice(message);
      reload();
      return r;
    } catch (err) {
      setActionError(err);
      return null;
    }
  }
  async function save(e) {
    e.preventDefault();
    await act(() => papi("/webhook", { method: "PUT", body: { url: url ?? data.url ?? "" } }), "URL saved.");
  }
  async function rotate() {
    const r = await act(() => papi("/webhook/rotate-secret", { method: "POST" }), "Secret rotated.");
    if (r?.secret) setSecret(r.secret);
  }
  return html`<section aria-labelledby="webhook-title">
    <h1 id="webhook-title">Webhook endpoint</h1>
    <${ErrorBox} error=${error || actionError} />
    <p aria-live="polite" class="notice">${notice}</p>
    ${loading && !data && html`<${Loading} what="the webhook" />`}
    ${secret && html`<${SecretOnce} secret=${secret} />`}
    ${
      data &&
      html`<dl class="facts">
          <dt>URL</dt>
          <dd class="mono" id="webhook-url">${data.url ?? "none"}</dd>
          <dt>Signing secret</dt>
          <dd id="webhook-secret">
            ${data.secret_set ? "set" : "not set"}
            ${data.previous_secret_expires_at && ` (the previous one also signs until ${fmtTime(data.previous_secret_expires_at)})`}
          </dd>
        </dl>
        ${
          canEdit &&
          html`<form onSubmit=${save}>
            <label for="webhook-new-url">New webhook URL</label>
            <div class="row">
              <input
                id="webhook-new-url"
                type="url"
                required
                value=${url ?? data.url ?? ""}
                onInput=${(e) => setUrl(e.currentTarget.value)}
              />
              <button type="submit">Save URL</button>
            </div>
          </form>`
        }
        ${canRotate && html`<button type="button" onClick=${rotate}>Rotate signing secret</button>`}`
    }
  </section>`;
}

function Uploads() {
  const { data, error, loading } = useLoad(() => papi("/uploads", { query: { page: 1, pageSize: 50 } }), []);
  return html`<section aria-labelledby="uploads-title">
    <h1 id="uploads-title">Uploads</h1>
    <${ErrorBox} error=${error} />
    ${loading && html`<${Loading} what="uploads" />`}
    ${
      data &&
      (data.data.length === 0
        ? html`<p class="notice">No uploads.</p>`
        : html`<table>
            <thead>
              <tr>
                <th scope="col">File</th>
                <th scope="col">Type</th>
                <th scope="col">Size</th>
                <th scope="col">Expires</th>
              </tr>
            </thead>
            <tbody>
              ${data.data.map(
                (f) =>
                  html`<tr data-file=${f.file_id}>
                    <td class="mono">${f.file_name}</td>
                    <td>${f.mime_type}</td>
                    <td>${fmtNum(f.file_size)} B</td>
                    <td>${f.expires_at ? fmtTime(f.expires_at) : "—"}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`)
    }
  </section>`;
}

const root = document.getElementById("app");
root.textContent = "";
render(html`<${App} />`, root);
