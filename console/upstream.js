// The operator's own EvoLink account on the front page (GET /admin/upstream): the balance the Registry last
// read, the credits tasks in flight hold across all tenants, and the low-balance alert. A gateway without the
// route (404) shows nothing.
import { useState } from "preact/hooks";
import { api } from "./api.js";
import { ErrorBox, fmtNum, fmtTime, html, useLoad } from "./ui.js";

/** "just now", "5 min ago", "3 h ago", "2 days ago". */
export function ago(iso, now = Date.now()) {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 10) return "just now";
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86400)} days ago`;
}

const When = ({ iso }) => html`<time datetime=${iso} title=${fmtTime(iso)}>${ago(iso)}</time>`;
const credits = (n) => `${fmtNum(n)} credits`;

/** Why the balance is low: under the operator's alert level, under what tasks in flight hold, or both. */
function lowBecause({ balance, open_reservations, alert }) {
  const left = balance?.remaining_credits;
  if (left == null) return "";
  const why = [
    alert.below != null && left < alert.below && `under the alert level of ${credits(alert.below)}`,
    left < open_reservations && `under the ${credits(open_reservations)} tasks in flight hold`,
  ].filter(Boolean);
  return why.length ? `: ${credits(left)} left, ${why.join(" and ")}` : "";
}

export function Upstream() {
  // The button asks the Registry to read the balance now (`?refresh=1`); a plain load shows its last read.
  const [asked, setAsked] = useState(0);
  const { data, error, loading } = useLoad(
    () => api(asked ? "/admin/upstream?refresh=1" : "/admin/upstream"),
    [asked],
  );
  if (error?.status === 404 || (loading && !data && !error)) return null;
  const b = data?.balance;
  const low = data?.alert.low;
  const every = data?.check_every_seconds;
  const stale = b && Date.now() - Date.parse(b.read_at) > 2000 * every;
  const checked = `, checked every ${every % 60 ? `${every} s` : `${every / 60} min`}${stale ? " (late: more than two checks ago)" : ""}`;
  const below = data?.alert.below;
  const alertWhen = `${below == null ? "" : `below ${credits(below)}, or `}below what tasks in flight hold`;
  return html`<section id="upstream" class=${`upstream${low ? " low" : ""}`} aria-labelledby="upstream-title">
    <div class="row">
      <h2 id="upstream-title">EvoLink balance</h2>
      <button type="button" onClick=${() => setAsked((n) => n + 1)} disabled=${loading}>Refresh</button>
    </div>
    <${ErrorBox} error=${error} />
    ${
      low &&
      html`<p class="warning" role="alert">
        Low balance${data.alert.since && html` since <${When} iso=${data.alert.since} />`}${lowBecause(data)}.
        Top up the EvoLink account before creations start failing.
      </p>`
    }
    ${
      data &&
      html`<dl class="facts">
        <dt>Remaining</dt>
        <dd id="upstream-remaining">
          ${!b ? "not read yet" : b.remaining_credits == null ? "unlimited" : credits(b.remaining_credits)}
        </dd>
        <dt>Used</dt>
        <dd id="upstream-used">${b ? credits(b.used_credits) : "—"}</dd>
        <dt>Held by tasks in flight</dt>
        <dd id="upstream-open">${credits(data.open_reservations)}, all tenants</dd>
        <dt>Alert when</dt>
        <dd>${alertWhen}</dd>
        <dt>Read</dt>
        <dd id="upstream-read">${b ? html`<${When} iso=${b.read_at} />` : "not yet"}${checked}</dd>
        ${
          data.last_error &&
          html`<dt>Last error</dt>
            <dd id="upstream-error" class="field-error">
              <code>${data.last_error.code}</code>, <${When} iso=${data.last_error.at} />
            </dd>`
        }
      </dl>`
    }
  </section>`;
}
