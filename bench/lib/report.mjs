// Turns one benchmark run into its comparisons (gateway ÷ passthrough throughput, gateway − passthrough
// latency and CPU) and into the markdown that bench/results/latest.md and the README show.
// The targets are evaluated here for the reader; nothing fails on them.

export const TARGETS = { throughputRatio: 0.7, addedP50Ms: 1, addedP99Ms: 3 };

/** Gateway target id → the passthrough target it is read against. */
export const PAIRS = [
  ["gateway-es256", "passthrough"],
  ["gateway-rs256", "passthrough"],
  ["gateway-get", "passthrough-get"],
];

export function compare(targets) {
  const byId = Object.fromEntries(targets.map((t) => [t.id, t]));
  const out = [];
  for (const [g, p] of PAIRS) {
    const gw = byId[g];
    const pt = byId[p];
    if (!gw || !pt) continue;
    out.push({
      gateway: g,
      floor: p,
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
    `| gateway over its floor | throughput (target ≥ ${pct(TARGETS.throughputRatio)}) | added p50, serial (≤ ${TARGETS.addedP50Ms} ms) ` +
      `| added p99, serial (≤ ${TARGETS.addedP99Ms} ms) | added p99.9, serial | added p50 under load | added CPU ms/req |`,
    "| --- | --: | --: | --: | --: | --: | --: |",
  );
  const label = Object.fromEntries(run.targets.map((t) => [t.id, t.label]));
  for (const c of run.comparisons) {
    lines.push(
      `| ${label[c.gateway]} vs ${label[c.floor]} | ${pct(c.throughput_ratio)} ${mark(c.throughput_ratio >= TARGETS.throughputRatio)} ` +
        `| ${signed(c.added_ms_serial?.p50)} ${mark(c.added_ms_serial?.p50 <= TARGETS.addedP50Ms)} ` +
        `| ${signed(c.added_ms_serial?.p99)} ${mark(c.added_ms_serial?.p99 <= TARGETS.addedP99Ms)} ` +
        `| ${signed(c.added_ms_serial?.p99_9)} | ${signed(c.added_ms_under_load?.p50)} | ${signed(c.added_cpu_ms_per_request)} |`,
    );
  }
  if (run.profile) {
    lines.push("", `CPU profile of ${label[run.profile.target]} (self time, share of samples):`, "");
    for (const { fn, share } of run.profile.top.slice(0, 15)) lines.push(`- ${pct1(share)} ${fn}`);
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
