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
  // Bumped by each webhook action, so the switched-off banner looks again.
  const [changed, setChanged] = useState(0);
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
    body = html`<${Webhook}
      canEdit=${can("edit_webhook")}
      canRotate=${can("rotate_secret")}
      onChanged=${() => setChanged((n) => n + 1)}
    />`;
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
    <${DisabledBanner} key=${changed} onOpen=${() => setSection("webhook")} />
    <main id="main" tabindex="-1">${body}</main>
  </div>`;
}

const events = (n) => `${n} event${n === 1 ? "" : "s"}`;

/** The tenant's signal that its webhook endpoint was switched off (no email needed): on every section. */
function DisabledBanner({ onOpen }) {
  const { data } = useLoad(() => papi("/webhook"), []);
  const off = data?.health?.filter((e) => e.state === "disabled") ?? [];
  if (off.length === 0) return null;
  const held = off.reduce((n, e) => n + e.held, 0);
  const text =
    `Webhook endpoint ${off.map((e) => e.url).join(", ")} was switched off after failing since ` +
    `${fmtTime(off[0].first_failure_at)}; ${events(held)} ${held === 1 ? "is" : "are"} held for it. `;
  return html`<div class="banner error" role="alert" id="webhook-disabled-banner">
    ${text}<button type="button" class="link" onClick=${onOpen}>See the webhook</button>
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

/** "Recover everything that failed since…": each failed or dead-lettered event again, with its webhook-id. */
function Recover({ onDone }) {
  const [since, setSince] = useState(() => new Date(Date.now() - 86_400_000).toISOString().slice(0, 16));
  const [result, setResult] = useState(null);
  const [error, setError] = useState(null);
  async function submit(e) {
    e.preventDefault();
    setError(null);
    try {
      const body = { since: new Date(`${since}Z`).toISOString() };
      const r = await papi("/deliveries/recover", { method: "POST", body });
      setResult(r.queued);
      onDone();
    } catch (err) {
      setError(err);
    }
  }
  return html`<form class="row" onSubmit=${submit}>
    <label for="recover-since">Recover everything that failed since (UTC)</label>
    <input
      id="recover-since"
      type="datetime-local"
      required
      value=${since}
      onInput=${(e) => setSince(e.currentTarget.value)}
    />
    <button type="submit">Recover</button>
    ${result !== null && html`<span role="status" id="recover-result">${events(result)} queued again</span>`}
    <${ErrorBox} error=${error} />
  </form>`;
}

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
    ${canRedeliver && html`<${Recover} onDone=${reload} />`}
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

/** One endpoint's health, and its Re-enable button while it is switched off (`edit_webhook`). */
function Health({ e, canEdit, act }) {
  const ratio = e.success_ratio_24h === null ? "no attempts" : `${fmtNum(e.success_ratio_24h * 100)} %`;
  return html`<div class=${`health${e.state === "disabled" ? " low" : ""}`} data-endpoint=${e.url}>
    <dl class="facts">
      <dt>Endpoint</dt>
      <dd class="mono">${e.url}</dd>
      <dt>State</dt>
      <dd class="health-state"><${Status} value=${e.state} />${e.held ? ` (${events(e.held)} held)` : ""}</dd>
      <dt>Failures in a row</dt>
      <dd>${e.consecutive_failures}${e.first_failure_at ? ` since ${fmtTime(e.first_failure_at)}` : ""}</dd>
      <dt>Last success</dt>
      <dd>${fmtTime(e.last_success_at)}</dd>
      <dt>Delivered, 24 h</dt>
      <dd>${ratio}</dd>
    </dl>
    ${
      canEdit &&
      e.state === "disabled" &&
      html`<button
        type="button"
        onClick=${() => act(() => papi("/webhook/enable", { method: "POST", body: { url: e.url } }), "Re-enabled: held events are on their way.")}
      >
        Re-enable ${e.url}
      </button>`
    }
  </div>`;
}

function Webhook({ canEdit, canRotate, onChanged }) {
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
      onChanged();
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
        <div class="actions">
          ${canRotate && html`<button type="button" onClick=${rotate}>Rotate signing secret</button>`}
          ${
            canEdit &&
            data.url &&
            html`<button
              type="button"
              onClick=${() => act(() => papi("/webhook/test-event", { method: "POST" }), "Test event sent: see the deliveries.")}
            >
              Send a test event
            </button>`
          }
        </div>
        <h2>Health</h2>
        ${(data.health ?? []).map((e) => html`<${Health} e=${e} canEdit=${canEdit} act=${act} />`)}`
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
