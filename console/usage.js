// A tenant's month: credits per day (reserved and charged) drawn with uPlot, with the month's running total
// against the tenant's alert thresholds, the same figures as a table
// and as a CSV download, its top users, its requests and tasks in flight against their limits, and its kept
// results' storage (bytes now and the month's byte-days, per tenant and user, and as a CSV to bill from).
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import { api, enc } from "./api.js";
import { loadTenant } from "./tenants.js";
import { ErrorBox, Loading, alertThresholds, fmtBytes, fmtNum, html, navigate, useLoad } from "./ui.js";

const thisMonth = () => new Date().toISOString().slice(0, 7);

export function usageCsv(usage) {
  const head = "date,credits_reserved,credits_charged,credits_held,tasks_created,tasks_ended";
  const rows = usage.days.map((d) =>
    [d.date, d.credits_reserved, d.credits_charged, d.credits_held, d.tasks_created, d.tasks_ended].join(","),
  );
  return [head, ...rows].join("\n") + "\n";
}

/** The month's kept-result storage, one row per scope (the tenant, then each user): what storage is billed from. */
export function storageCsv(usage) {
  const s = usage.result_storage;
  const rows = [
    ["tenant", "", s.bytes, s.byte_days],
    ...s.users.map((u) => ["user", u.sub, u.bytes, u.byte_days]),
  ];
  return ["scope,sub,bytes_stored,byte_days", ...rows.map((r) => r.join(","))].join("\n") + "\n";
}

/** The tenant's alert thresholds in credits, `[{ pct, credits }]`; none without a monthly credit limit. */
export function thresholdMarks(quotas) {
  const limit = quotas?.monthly_credits;
  if (!(limit > 0)) return [];
  return alertThresholds(quotas).map((pct) => ({ pct, credits: (limit * pct) / 100 }));
}

/** Credits used by the end of each day (charged, plus what running tasks hold, as the quota counts), null after today. */
export function runningTotal(days, today = new Date().toISOString().slice(0, 10)) {
  let sum = 0;
  return days.map((d) => (d.date > today ? null : (sum += d.credits_charged + d.credits_held)));
}

const MARK = "#6f42c1";

/** The thresholds as dashed lines on the running total's scale, each labelled "80% · 4,000". */
function drawMarks(marks) {
  return (u) => {
    const { ctx, bbox } = u;
    const px = uPlot.pxRatio;
    ctx.save();
    ctx.strokeStyle = ctx.fillStyle = MARK;
    ctx.lineWidth = 2 * px;
    ctx.setLineDash([6 * px, 4 * px]);
    ctx.font = `600 ${12 * px}px system-ui, sans-serif`;
    ctx.textBaseline = "bottom";
    let last = Infinity;
    for (const m of marks) {
      const y = Math.round(u.valToPos(m.credits, "month", true));
      ctx.beginPath();
      ctx.moveTo(bbox.left, y);
      ctx.lineTo(bbox.left + bbox.width, y);
      ctx.stroke();
      // Labels at the right end; one too close to the one below it goes to the left end.
      const left = last - y < 16 * px;
      ctx.textAlign = left ? "left" : "right";
      ctx.fillText(
        `${m.pct}% · ${fmtNum(m.credits)}`,
        bbox.left + (left ? 4 * px : bbox.width - 4 * px),
        y - 2 * px,
      );
      if (!left) last = y;
    }
    ctx.restore();
  };
}

export function Chart({ days, tenant }) {
  const box = useRef(null);
  const quotas = tenant?.quotas;
  const marks = thresholdMarks(quotas);
  useEffect(() => {
    const x = days.map((d) => Date.parse(`${d.date}T00:00:00Z`) / 1000);
    const total = runningTotal(days);
    const data = [x, days.map((d) => d.credits_reserved), days.map((d) => d.credits_charged), total];
    // The running total's scale reaches the limit and the next threshold not yet reached; any above that
    // are in the caption only.
    const used = Math.max(0, ...total.filter((v) => v != null));
    const top = Math.max(
      1,
      used,
      quotas?.monthly_credits ?? 0,
      marks.find((m) => m.credits > used)?.credits ?? 0,
    );
    const shown = marks.filter((m) => m.credits <= top);
    // Side by side: reserved left of the day's tick, charged right of it.
    const left = uPlot.paths.bars({ size: [0.35, 24], align: -1 });
    const right = uPlot.paths.bars({ size: [0.35, 24], align: 1 });
    const width = Math.max(320, Math.min(900, box.current.clientWidth || 800));
    const plot = new uPlot(
      {
        width,
        height: 280,
        title: "Credits per day, and used this month",
        scales: {
          x: { time: true },
          y: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] },
          month: { range: () => [0, top * 1.1] },
        },
        axes: [
          {},
          { label: "credits per day" },
          // In the running total's colour, so that the marks read against it and not the bars.
          { scale: "month", side: 1, label: "used this month", stroke: "#116329", grid: { show: false } },
        ],
        series: [
          {
            label: "Day",
            value: (_u, v) => (v == null ? "—" : new Date(v * 1000).toISOString().slice(0, 10)),
          },
          {
            label: "Reserved",
            stroke: "#1f5fbf",
            fill: "rgba(31,95,191,0.55)",
            paths: left,
            points: { show: false },
          },
          {
            label: "Charged",
            stroke: "#b3471d",
            fill: "rgba(179,71,29,0.85)",
            paths: right,
            points: { show: false },
          },
          { label: "Used this month", scale: "month", stroke: "#116329", width: 2, points: { show: false } },
        ],
        hooks: { draw: [drawMarks(shown)] },
      },
      data,
      box.current,
    );
    box.current.dataset.points = String(
      data[1].filter((v) => v > 0).length + data[2].filter((v) => v > 0).length,
    );
    box.current.dataset.marks = shown.map((m) => `${m.pct}:${m.credits}`).join(" ");
    return () => plot.destroy();
  }, [days, tenant]);
  return html`<figure class="chart">
    <div
      ref=${box}
      class="chart-box"
      role="img"
      aria-label="Bar chart of credits reserved and charged per day, with a line of the month's credits used; the table below has the same figures."
    />
    <figcaption class="hint" id="alert-marks">
      ${
        marks.length
          ? `Alert thresholds (dashed; a quota.threshold webhook when first reached): ${marks
              .map((m) => `${m.pct}% = ${fmtNum(m.credits)}`)
              .join(", ")} of ${fmtNum(quotas.monthly_credits)} credits a month.`
          : tenant &&
            (quotas?.monthly_credits > 0
              ? "No alert thresholds."
              : "No monthly credit limit: no alert thresholds.")
      }
    </figcaption>
  </figure>`;
}

function Meter({ label, value, limit, fmt = fmtNum }) {
  return html`<div class="meter">
    <span>${label}</span>
    ${
      limit == null
        ? html`<strong>${fmt(value)}</strong> <span class="hint">(no limit)</span>`
        : html`<progress max=${limit} value=${Math.min(value, limit)} aria-label=${label}></progress>
            <strong>${fmt(value)} / ${fmt(limit)}</strong>`
    }
  </div>`;
}

export function Usage({ id, query }) {
  const month = query.get("month") ?? thisMonth();
  const { data, error, loading } = useLoad(
    () => api(`/admin/tenants/${enc(id)}/usage/daily`, { query: { month } }),
    [id, month],
  );
  // Its quotas, for the alert thresholds on the chart.
  const tenant = useLoad(() => loadTenant(id), [id]);
  const csvHref = useCsvHref(data, usageCsv);
  const storageHref = useCsvHref(data, storageCsv);
  return html`<section aria-labelledby="usage-title">
    <h1 id="usage-title">Usage</h1>
    <div class="row">
      <label for="usage-month">Month</label>
      <input
        id="usage-month"
        type="month"
        value=${month}
        onChange=${(e) => e.currentTarget.value && navigate(`#/tenants/${enc(id)}/usage?month=${e.currentTarget.value}`)}
      />
      ${csvHref && html`<a class="button" href=${csvHref} download=${`usage-${id}-${month}.csv`}>Export CSV</a>`}
      ${storageHref && html`<a class="button" href=${storageHref} download=${`storage-${id}-${month}.csv`}>Export storage CSV</a>`}
    </div>
    <${ErrorBox} error=${error} />
    ${loading && html`<${Loading} what="usage" />`}
    ${
      data &&
      html`<${Meters} usage=${data} />
        <${MonthTotals} usage=${data} />
        <${Chart} days=${data.days} tenant=${tenant.data} />
        <${DayTable} days=${data.days} />
        <h2>Top users</h2>
        <${TopUsers} users=${data.top_users} />
        <h2>Kept results</h2>
        <${Storage} storage=${data.result_storage} />`
    }
  </section>`;
}

/** An object URL of a CSV of the month for an export link, revoked when it is replaced or the page goes. */
function useCsvHref(usage, csv) {
  const href = usage ? URL.createObjectURL(new Blob([csv(usage)], { type: "text/csv" })) : null;
  useEffect(() => () => href && URL.revokeObjectURL(href), [href]);
  return href;
}

export function Meters({ usage }) {
  return html`<div class="meters">
    <${Meter} label="Tasks in flight" value=${usage.in_flight.tasks} limit=${usage.in_flight.limit} />
    <${Meter}
      label="Requests in the last minute"
      value=${usage.requests.last_minute}
      limit=${usage.requests.limit}
    />
    ${usage.credits && html`<${Meter} label="Credits this month (charged + held)" value=${usage.credits.charged + usage.credits.held} limit=${usage.credits.limit} />`}
    <${Meter}
      label="Kept results stored now"
      value=${usage.result_storage.bytes}
      limit=${usage.result_storage.limit}
      fmt=${fmtBytes}
    />
  </div>`;
}

function MonthTotals({ usage }) {
  const total = (k) => usage.days.reduce((s, d) => s + d[k], 0);
  const days = usage.result_storage.byte_days;
  return html`<p>
    ${usage.month}: <strong>${fmtNum(total("credits_charged"))}</strong> credits charged,${" "}
    <strong>${fmtNum(total("credits_reserved"))}</strong> reserved, ${total("tasks_created")} tasks;${" "}
    <strong>${fmtNum(days)}</strong> byte-days of kept
    results${days >= 1e7 ? ` (${fmtNum(days / 1e9)} GB-days)` : ""}.
  </p>`;
}

/** The chart's figures as a table, for the days that had tasks. */
function DayTable({ days }) {
  return html`<details>
    <summary>Figures per day</summary>
    <table>
      <thead>
        <tr>
          <th scope="col">Date</th>
          <th scope="col">Reserved</th>
          <th scope="col">Charged</th>
          <th scope="col">Held now</th>
          <th scope="col">Tasks created</th>
          <th scope="col">Tasks ended</th>
        </tr>
      </thead>
      <tbody>
        ${days
          .filter((d) => d.tasks_created > 0)
          .map(
            (d) =>
              html`<tr>
                <td>${d.date}</td>
                <td>${fmtNum(d.credits_reserved)}</td>
                <td>${fmtNum(d.credits_charged)}</td>
                <td>${fmtNum(d.credits_held)}</td>
                <td>${d.tasks_created}</td>
                <td>${d.tasks_ended}</td>
              </tr>`,
          )}
      </tbody>
    </table>
  </details>`;
}

export function TopUsers({ users }) {
  if (users.length === 0) return html`<p class="notice">No user-attributed tasks this month.</p>`;
  return html`<table>
    <thead>
      <tr>
        <th scope="col">User (sub)</th>
        <th scope="col">Charged</th>
        <th scope="col">Reserved</th>
        <th scope="col">Tasks</th>
      </tr>
    </thead>
    <tbody>
      ${users.map(
        (u) =>
          html`<tr>
            <td class="mono">${u.sub}</td>
            <td>${fmtNum(u.credits_charged)}</td>
            <td>${fmtNum(u.credits_reserved)}</td>
            <td>${u.tasks}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/** Kept-result storage per user: bytes now and the month's byte-days (a byte kept one day is one). */
function Storage({ storage }) {
  if (storage.users.length === 0) return html`<p class="notice">No user kept results this month.</p>`;
  return html`<table id="storage-users">
    <thead>
      <tr>
        <th scope="col">User (sub)</th>
        <th scope="col">Stored now</th>
        <th scope="col">Byte-days this month</th>
      </tr>
    </thead>
    <tbody>
      ${storage.users.map(
        (u) =>
          html`<tr>
            <td class="mono">${u.sub}</td>
            <td title=${`${u.bytes} bytes`}>${fmtBytes(u.bytes)}</td>
            <td>${fmtNum(u.byte_days)}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}
