// A tenant's webhook deliveries: its endpoints' health (a disabled one in a banner with Re-enable; "Recover
// since…", "Send test event"), every attempt (time, task, status code, latency, outcome), the events that
// were dead-lettered, and a redeliver button that queues the event again.
import { useState } from "preact/hooks";
import { api, enc } from "./api.js";
import { CursorPager, ErrorBox, Loading, Status, fmtTime, html, useLoad } from "./ui.js";

export function Deliveries({ id }) {
  const [cursors, setCursors] = useState([null]);
  const cursor = cursors[cursors.length - 1];
  const { data, error, loading, reload } = useLoad(
    () => api(`/admin/tenants/${enc(id)}/deliveries`, { query: { limit: 50, cursor: cursor ?? undefined } }),
    [id, cursor],
  );
  const { queued, setQueued, actionError, redeliver } = useRedeliver();
  const dead = data?.data.filter((d) => d.outcome === "dead_lettered") ?? [];
  const table = (rows, caption) =>
    html`<${DeliveryTable}
      id=${id}
      rows=${rows}
      caption=${caption}
      queued=${queued}
      onRedeliver=${redeliver}
    />`;
  return html`<section aria-labelledby="deliveries-title">
    <div class="row">
      <h1 id="deliveries-title">Webhook deliveries</h1>
      <button
        type="button"
        onClick=${() => {
          setQueued({});
          reload();
        }}
      >
        Refresh
      </button>
    </div>
    <${Endpoints} id=${id} />
    <${ErrorBox} error=${error || actionError} />
    ${loading && html`<${Loading} what="deliveries" />`}
    ${
      data &&
      html`<h2 id="dead-title">Dead letters</h2>
        <p class="hint">
          Events whose every scheduled attempt failed: nothing more is tried unless you redeliver.
        </p>
        ${dead.length ? table(dead, "Dead-lettered deliveries") : html`<p class="notice">None.</p>`}
        <h2>All attempts</h2>
        ${data.data.length ? table(data.data, "Delivery attempts, newest first") : html`<p class="notice">No deliveries yet.</p>`}
        <${CursorPager}
          label="Delivery pages"
          back="Newer"
          forward="Older"
          cursors=${cursors}
          setCursors=${setCursors}
          next=${data.cursor}
        />`
    }
  </section>`;
}

/** Each endpoint's health (GET …/webhook/health) and the actions on it; `said`: the last action's answer. */
function Endpoints({ id }) {
  const base = `/admin/tenants/${enc(id)}`;
  const { data, error, reload } = useLoad(() => api(`${base}/webhook/health`), [id]);
  const [said, setSaid] = useState(null);
  const [since, setSince] = useState("");
  async function act(path, body, say) {
    setSaid(null);
    try {
      setSaid(say(await api(`${base}/${path}`, { method: "POST", body })));
      reload();
    } catch (err) {
      setSaid(err);
    }
  }
  const pct = (r) => (r == null ? "—" : `${Math.round(r * 100)} %`);
  return html`<h2>Endpoints</h2>
    <${ErrorBox} error=${error || (said instanceof Error && said)} />
    ${data?.data.map(
      (e) =>
        html`${
            e.state === "disabled" &&
            html`<p class="warning" role="alert">
              ${e.url} is disabled since ${fmtTime(e.disabled_at)}: ${e.held} events held.
              <button
                type="button"
                onClick=${() => act("webhook/enable", { url: e.url }, (r) => `Re-enabled: ${r.released} released.`)}
              >
                Re-enable
              </button>
            </p>`
          }
          <p data-endpoint=${e.url}>
            <span class="mono">${e.url}</span> <${Status} value=${e.state} />
            ${` ${e.consecutive_failures} failures in a row${e.first_failure_at ? ` since ${fmtTime(e.first_failure_at)}` : ""} · last success ${e.last_success_at ? fmtTime(e.last_success_at) : "—"} · 24 h ${pct(e.success_ratio_24h)}`}
          </p>`,
    )}
    <div class="row">
      <button
        type="button"
        onClick=${() => act("webhook/test", undefined, (r) => `Test event ${r.event_id} queued.`)}
      >
        Send test event
      </button>
      <label
        >Recover since
        <input type="datetime-local" value=${since} onInput=${(e) => setSince(e.currentTarget.value)}
      /></label>
      <button
        type="button"
        disabled=${!since}
        onClick=${() => act("deliveries/recover", { since: new Date(since).toISOString() }, (r) => `${r.queued} events queued again.`)}
      >
        Recover
      </button>
    </div>
    ${typeof said === "string" && html`<p role="status">${said}</p>`}`;
}

/** The redeliver action: what each queued delivery's redelivery answered (by delivery id), and its error. */
function useRedeliver() {
  const [queued, setQueued] = useState({});
  const [actionError, setActionError] = useState(null);
  async function redeliver(d) {
    setActionError(null);
    try {
      const r = await api(`/admin/deliveries/${enc(d.id)}/redeliver`, { method: "POST" });
      setQueued({ ...queued, [d.id]: r.status });
    } catch (err) {
      setActionError(err);
    }
  }
  return { queued, setQueued, actionError, redeliver };
}

function DeliveryTable({ id, rows, caption, queued, onRedeliver }) {
  return html`<table>
    <caption class="sr-only">
      ${caption}
    </caption>
    <thead>
      <tr>
        <th scope="col">Time</th>
        <th scope="col">Task</th>
        <th scope="col">Attempt</th>
        <th scope="col">Status code</th>
        <th scope="col">Latency</th>
        <th scope="col">Outcome</th>
        <th scope="col"><span class="sr-only">Action</span></th>
      </tr>
    </thead>
    <tbody>
      ${rows.map(
        (d) => html`<${DeliveryRow} id=${id} d=${d} queued=${queued[d.id]} onRedeliver=${onRedeliver} />`,
      )}
    </tbody>
  </table>`;
}

/** One attempt; `queued` is its redelivery's status once the button was pressed, which then replaces it. */
function DeliveryRow({ id, d, queued, onRedeliver }) {
  return html`<tr data-delivery=${d.id}>
    <td>${fmtTime(d.attempted_at)}</td>
    <td><a class="mono" href=${`#/tenants/${enc(id)}/tasks/${enc(d.task_id)}`}>${d.task_id}</a></td>
    <td>${d.attempt ?? "DLQ"}${d.redelivery ? " (redelivery)" : ""}</td>
    <td>${d.status_code ?? "—"}</td>
    <td>${d.latency_ms == null ? "—" : `${d.latency_ms} ms`}</td>
    <td><${Status} value=${d.outcome} />${d.error ? html` <span class="hint">${d.error}</span>` : ""}</td>
    <td>
      ${
        queued
          ? html`<span role="status">Redelivery ${queued}</span>`
          : html`<button
              type="button"
              onClick=${() => onRedeliver(d)}
              aria-label=${`Redeliver the event of task ${d.task_id} (${d.id})`}
            >
              Redeliver
            </button>`
      }
    </td>
  </tr>`;
}
