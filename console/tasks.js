// A tenant's tasks (GET /admin/tenants/{tenant_id}/tasks, with a status filter and paging) and one task's detail,
// whose upstream id is the operator's support handle with EvoLink.
import { api, enc } from "./api.js";
import { ErrorBox, Loading, Status, fmtNum, fmtUnix, html, navigate, useLoad } from "./ui.js";

const STATUSES = ["", "pending", "processing", "completed", "failed", "cancelled"];

export function Tasks({ id, query }) {
  const status = query.get("status") ?? "";
  const page = Number(query.get("page") ?? 1);
  const { data, error, loading } = useLoad(
    () => api(`/admin/tenants/${enc(id)}/tasks`, { query: { status, page, page_size: 20 } }),
    [id, status, page],
  );
  const go = (s, p) =>
    navigate(`#/tenants/${enc(id)}/tasks?${new URLSearchParams({ status: s, page: String(p) })}`);
  const pages = data ? Math.max(1, Math.ceil(data.total / data.page_size)) : 1;
  return html`<section aria-labelledby="tasks-title">
    <h1 id="tasks-title">Tasks</h1>
    <div class="row">
      <label for="task-status">Status</label>
      <select id="task-status" value=${status} onChange=${(e) => go(e.currentTarget.value, 1)}>
        ${STATUSES.map((s) => html`<option value=${s}>${s || "any"}</option>`)}
      </select>
    </div>
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
              <th scope="col">Reserved</th>
              <th scope="col">Charged</th>
              <th scope="col">Upstream id</th>
            </tr>
          </thead>
          <tbody>
            ${data.data.map(
              (t) =>
                html`<tr>
                  <td><a class="mono" href=${`#/tenants/${enc(id)}/tasks/${enc(t.id)}`}>${t.id}</a></td>
                  <td><${Status} value=${t.status} /> ${t.progress != null ? `${t.progress}%` : ""}</td>
                  <td class="mono whole">${t.sub ?? "—"}</td>
                  <td>${fmtUnix(t.created)}</td>
                  <td>${fmtNum(t.credits_reserved)}</td>
                  <td>${fmtNum(t.credits_used)}</td>
                  <td class="mono">${t.upstream_id ?? "—"}</td>
                </tr>`,
            )}
          </tbody>
        </table>
        ${data.data.length === 0 && html`<p class="notice">No tasks${status ? ` with status ${status}` : ""}.</p>`}
        <nav class="pager" aria-label="Task pages">
          <button type="button" disabled=${page <= 1} onClick=${() => go(status, page - 1)}>Previous</button>
          <span>Page ${page} of ${pages} (${data.total} tasks)</span>
          <button type="button" disabled=${page >= pages} onClick=${() => go(status, page + 1)}>Next</button>
        </nav>`
    }
  </section>`;
}

export function TaskDetail({ id, taskId }) {
  const {
    data: t,
    error,
    loading,
  } = useLoad(() => api(`/admin/tenants/${enc(id)}/tasks/${enc(taskId)}`), [id, taskId]);
  if (loading) return html`<${Loading} what="the task" />`;
  if (error) return html`<${ErrorBox} error=${error} />`;
  return html`<section aria-labelledby="task-title">
    <p><a href=${`#/tenants/${enc(id)}/tasks`}>← All tasks</a></p>
    <h1 id="task-title" class="mono">${t.id}</h1>
    <dl class="facts">
      <dt>Upstream id (support handle)</dt>
      <dd class="mono" id="upstream-id">${t.upstream_id ?? "not yet assigned"}</dd>
      <dt>Status</dt>
      <dd><${Status} value=${t.status} /> ${t.progress != null ? `${t.progress}%` : ""}</dd>
      <dt>Model</dt>
      <dd class="mono">${t.model}</dd>
      <dt>User (sub)</dt>
      <dd class="mono">${t.sub ?? "—"}</dd>
      <dt>Created</dt>
      <dd>${fmtUnix(t.created)}</dd>
      <dt>Updated</dt>
      <dd>${fmtUnix(t.updated)}</dd>
      <dt>Ended</dt>
      <dd>${fmtUnix(t.ended)}</dd>
      <dt>Credits reserved</dt>
      <dd>${fmtNum(t.credits_reserved)}</dd>
      <dt>Credits charged</dt>
      <dd>${fmtNum(t.credits_used)}</dd>
      <dt>Callback URL</dt>
      <dd class="mono">${t.callback_url ?? "—"}</dd>
      <dt>Error</dt>
      <dd class="mono">${t.error ? JSON.stringify(t.error) : "—"}</dd>
    </dl>
  </section>`;
}
