// A tenant's tasks (GET /admin/tenants/{tenant_id}/tasks, with a status filter and paging, and a Delete action
// for an ended task behind a confirmation) and one task's detail, whose upstream id is the operator's support
// handle with EvoLink and which says whether its results are kept in the bucket.
import { useRef, useState } from "preact/hooks";
import { api, enc } from "./api.js";
import { ErrorBox, Loading, Status, fmtNum, fmtUnix, html, navigate, useLoad } from "./ui.js";

const STATUSES = ["", "pending", "processing", "completed", "failed", "cancelled"];
const ENDED = new Set(["completed", "failed", "cancelled"]);

export function Tasks({ id, query }) {
  const status = query.get("status") ?? "";
  const page = Number(query.get("page") ?? 1);
  const { data, error, loading, reload } = useLoad(
    () => api(`/admin/tenants/${enc(id)}/tasks`, { query: { status, page, page_size: 20 } }),
    [id, status, page],
  );
  const { dialog, doomed, ask, remove, notice, deleteError } = useTaskDelete(id, reload);
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
    <p aria-live="polite" class="notice">${notice}</p>
    <${ErrorBox} error=${error ?? deleteError} />
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
              <th scope="col"><span class="sr-only">Actions</span></th>
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
                  <td>
                    ${
                      ENDED.has(t.status) &&
                      html`<button
                        type="button"
                        class="danger"
                        aria-label=${`Delete ${t.id}`}
                        onClick=${() => ask(t.id)}
                      >
                        Delete…
                      </button>`
                    }
                  </td>
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
    <${DeleteTaskDialog} dialog=${dialog} taskId=${doomed} onDelete=${remove} />
  </section>`;
}

/** The list's Delete action: `ask` opens the confirmation for a task, `remove` deletes it and reloads the list. */
function useTaskDelete(id, reload) {
  const dialog = useRef(null);
  const [doomed, setDoomed] = useState(null);
  const [notice, setNotice] = useState("");
  const [deleteError, setDeleteError] = useState(null);
  function ask(taskId) {
    setDoomed(taskId);
    setNotice("");
    setDeleteError(null);
    dialog.current?.showModal();
  }
  async function remove(taskId) {
    try {
      await api(`/admin/tenants/${enc(id)}/tasks/${enc(taskId)}`, { method: "DELETE" });
      setNotice(`Deleted ${taskId} and its kept results.`);
      reload();
    } catch (err) {
      setDeleteError(err);
    }
  }
  return { dialog, doomed, ask, remove, notice, deleteError };
}

function DeleteTaskDialog({ dialog, taskId, onDelete }) {
  function submit(e) {
    e.preventDefault();
    dialog.current?.close();
    onDelete(taskId);
  }
  return html`<dialog ref=${dialog} aria-labelledby="delete-task-title">
    <form onSubmit=${submit}>
      <h2 id="delete-task-title">Delete this task?</h2>
      <p class="mono">${taskId}</p>
      <p>
        Its kept results are deleted from the bucket and its record is erased; its id and result URLs then
        answer 404. The credits it used stay in the ledger. This cannot be undone.
      </p>
      <div class="actions">
        <button type="button" onClick=${() => dialog.current?.close()}>Cancel</button>
        <button type="submit" class="danger">Delete task</button>
      </div>
    </form>
  </dialog>`;
}

/** `results_stored` in words: kept, a copy to come, or why none was kept. */
export function resultsKept(t) {
  if (t.results_stored === null || t.results_stored === undefined) return "none kept";
  if (t.results_stored) return "stored in the bucket";
  switch (t.results_not_stored) {
    case "copy_pending":
      return "not yet: copy pending";
    case "storage_limit":
      return "not kept: storage limit";
    case "link_lost":
      return "not kept: upstream link lost";
    default:
      return "not stored";
  }
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
      <dt>Results kept</dt>
      <dd id="results-kept">${resultsKept(t)}</dd>
      <dt>Error</dt>
      <dd class="mono">${t.error ? JSON.stringify(t.error) : "—"}</dd>
    </dl>
  </section>`;
}
