// Turns one benchmark run into its comparisons (gateway ÷ passthrough throughput, gateway − passthrough
// latency and CPU) and into the markdown that bench/results/latest.md and the README show.
// The budgets (issue 19) are evaluated here for the reader; nothing fails on them.

/**
 * Target id → the target it is read against, and its budget: throughput at least `throughput` of the other's,
 * added serial p50 at most `p50` ms. Pairs whose targets did not run are left out; the Portkey targets run
 * only with --portkey-git/--portkey-src/--portkey-node.
 */
export const PAIRS = [
  ["gateway-es256", "passthrough", { throughput: 0.7, p50: 3 }],
  ["gateway-rs256", "passthrough", { throughput: 0.7, p50: 3 }],
  ["gateway-get", "passthrough-get", { throughput: 0.9, p50: 0.5 }],
  ["gateway-es256", "portkey-workerd", { throughput: 0.75 }],
  ["gateway-get", "portkey-workerd-get", { throughput: 1 }],
  ["portkey-workerd", "passthrough", {}],
  ["portkey-workerd-get", "passthrough-get", {}],
  ["gateway-es256", "portkey-node", {}],
  ["gateway-get", "portkey-node-get", {}],
  ["portkey-node", "passthrough", {}],
  ["portkey-node-get", "passthrough-get", {}],
  // --baseline <ref>: the working tree's gateway against the gateway at ref, and that one against its floor.
  ["gateway-es256", "baseline-es256", {}],
  ["gateway-get", "baseline-get", {}],
  ["baseline-es256", "passthrough", {}],
  ["baseline-get", "passthrough-get", {}],
];

export function compare(targets) {
  const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
  const out = [];
  for (const [g, p, budget] of PAIRS) {
    const gw = byId[g];
    const pt = byId[p];
    if (!gw || !pt) continue;
    out.push({
      gateway: g,
      floor: p,
      budget,
      throughput_ratio: ratio(gw.load.rps, pt.load.rps),
      added_ms_serial: diffLatency(gw.serial, pt.serial),
      added_ms_under_load: diffLatency(gw.load, pt.load),
      added_cpu_ms_per_request: diff(gw.load.cpu_ms_per_request, pt.load.cpu_ms_per_request),
    });
  }
  return out;
}

function diffLatency(a, b) {
  if (!a || !b) return null;
  return {
    p50: diff(a.latency_ms.p50, b.latency_ms.p50),
    p99: diff(a.latency_ms.p99, b.latency_ms.p99),
    p99_9: diff(a.latency_ms.p99_9, b.latency_ms.p99_9),
  };
}

const diff = (a, b) =>
  a === null || b === null || a === undefined || b === undefined ? null : round(a - b, 3);
const ratio = (a, b) => (b ? round(a / b, 3) : null);
const round = (n, d) => Math.round(n * 10 ** d) / 10 ** d;

export function markdown(run) {
  const s = run.settings;
  const lines = [
    `Measured ${run.finished_at.slice(0, 16).replace("T", " ")} UTC at ${run.git.commit}${run.git.src_dirty ? " (src/ with uncommitted changes)" : ""}` +
      ` on ${run.machine.cpus} × ${run.machine.cpu_model}, Node ${run.machine.node}, wrangler ${run.machine.wrangler}` +
      ` (workerd on loopback). Reproduce: \`${run.command}\`.`,
    "",
    `Load: ${s.connections} connections for ${s.load_s} s per target after a ${s.warmup_s} s warm-up ` +
      `(bench tenants' quotas: ${s.tenant_quotas}); ` +
      `serial: 1 connection for ${s.serial_s} s. Latency in ms; CPU is the Worker's own processes (workerd and ` +
      `its dev proxy) per request.`,
    "",
    "| target | req/s | first → last s | p50 | p99 | p99.9 | errors | CPU ms/req | serial p50 | serial p99 | serial p99.9 |",
    "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: | --: |",
  ];
  for (const t of run.targets) {
    const l = t.load;
    const r = t.serial;
    lines.push(
      `| ${t.label} | ${fmt(l.rps, 0)} | ${trend(l.per_second)} | ${fmt(l.latency_ms.p50)} | ${fmt(l.latency_ms.p99)} | ${fmt(l.latency_ms.p99_9)} ` +
        `| ${l.errors + (r?.errors ?? 0)} | ${fmt(l.cpu_ms_per_request)} | ${fmt(r?.latency_ms.p50)} | ${fmt(r?.latency_ms.p99)} ` +
        `| ${fmt(r?.latency_ms.p99_9)} |`,
    );
  }
  lines.push(
    "",
    "| A vs B | throughput A÷B (budget) | added p50, serial (budget) | added p99, serial | added p99.9, serial " +
      "| added p50 under load | added CPU ms/req |",
    "| --- | --: | --: | --: | --: | --: | --: |",
  );
  const label = Object.fromEntries(run.targets.map((t) => [t.id, t.label]));
  for (const c of run.comparisons) {
    const b = c.budget ?? {};
    const p50 = c.added_ms_serial?.p50;
    lines.push(
      `| ${label[c.gateway]} vs ${label[c.floor]} ` +
        `| ${pct(c.throughput_ratio)}${b.throughput === undefined ? "" : ` (≥ ${pct(b.throughput)}) ${mark(c.throughput_ratio >= b.throughput)}`} ` +
        `| ${signed(p50)}${b.p50 === undefined ? "" : ` (≤ ${b.p50}) ${mark(p50 <= b.p50)}`} ` +
        `| ${signed(c.added_ms_serial?.p99)} | ${signed(c.added_ms_serial?.p99_9)} ` +
        `| ${signed(c.added_ms_under_load?.p50)} | ${signed(c.added_cpu_ms_per_request)} |`,
    );
  }
  for (const c of run.portkey_checks ?? [])
    lines.push(
      "",
      `Checked before measuring, ${c.target}: POST ${c.post_status}, GET ${c.get_status}; the simulator saw exactly ` +
        `${c.sim_saw.map((x) => x.call).join(" and ")}.`,
    );
  const pk = run.portkey ?? {};
  if (pk.workerd_build)
    lines.push(
      "",
      `Portkey on workerd: its source at ${pk.workerd_build.gateway} (hono ${pk.workerd_build.hono}), built with ` +
        `this project's wrangler, workerd ${pk.workerd_build.workerd}, under wrangler dev like the other Workers.`,
    );
  if (pk.node_install)
    lines.push(
      "",
      `Portkey on Node: @portkey-ai/gateway ${pk.node_install.gateway} (@hono/node-server ` +
        `${pk.node_install["@hono/node-server"]}, hono ${pk.node_install.hono}), Node ${pk.node_install.node}, ` +
        `one process with no wrangler dev in front (not like for like).`,
    );
  if (run.profile) {
    lines.push("", `CPU profile of ${label[run.profile.target]} (self time, share of samples):`, "");
    for (const { fn, share } of run.profile.top.slice(0, 15)) lines.push(`- ${pct1(share)} ${fn}`);
    if (run.profile.top_total) {
      lines.push("", "Total time (self and synchronous callees), share of samples:", "");
      for (const { fn, share } of run.profile.top_total.slice(0, 40)) lines.push(`- ${pct1(share)} ${fn}`);
    }
  }
  return lines.join("\n") + "\n";
}

const pct1 = (n) => `${(n * 100).toFixed(1)}%`;

/** Responses in the first and the last whole second of the run. */
const trend = (perSecond) =>
  perSecond?.length >= 2 ? `${perSecond[0]} → ${perSecond[perSecond.length - 1]}` : "–";
const fmt = (n, d = 2) => (n === null || n === undefined ? "–" : n.toFixed(d));
const pct = (n) => (n === null ? "–" : `${Math.round(n * 100)}%`);
const signed = (n) =>
  n === null || n === undefined ? "–" : `${n >= 0 ? "+" : "−"}${Math.abs(n).toFixed(2)}`;
const mark = (ok) => (ok ? "✓" : "✗");
