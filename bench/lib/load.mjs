// One load run against one target with autocannon: a fixed number of connections, each sending its next
// request as soon as the last one answered, for a fixed time, then it stops by itself. Latency percentiles
// are computed here from every 2xx response time (autocannon's own histogram rounds to whole milliseconds,
// too coarse for sub-millisecond differences); anything but a 2xx, and every socket error, is an error.
// A target measured in several slices (rounds) is summarized over all of them at once.
import autocannon from "autocannon";

/**
 * @param {{ url: string, method?: string, headers?: Record<string,string>, body?: string,
 *           connections: number, durationS: number }} target
 * @param {{ cpu?: () => number | null }} [probe] CPU clock (ms) of the Worker under test, read around the run
 * @returns {Promise<Slice>} the raw measurements, for `summarize`
 */
export async function runLoad(target, probe = {}) {
  const latencies = [];
  const statuses = {};
  const perSecond = [];
  const cpuBefore = probe.cpu?.() ?? null;
  const instance = autocannon({
    url: target.url,
    method: target.method ?? "GET",
    headers: target.headers ?? {},
    body: target.body,
    connections: target.connections,
    duration: target.durationS,
    timeout: 10,
  });
  instance.on("tick", ({ counter }) => perSecond.push(counter));
  instance.on("response", (_client, statusCode, _bytes, responseTime) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
  const result = await instance;
  const cpuAfter = probe.cpu?.() ?? null;
  return {
    connections: target.connections,
    seconds: result.duration,
    latencies,
    statuses,
    socketErrors: result.errors,
    timeouts: result.timeouts,
    // The tick after the last whole second counts a partial second: left out.
    perSecond: perSecond.slice(0, Math.floor(target.durationS)),
    cpuMs: cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null,
  };
}

/** One summary of a target's slices: throughput, latency percentiles, errors, CPU per request. */
export function summarize(slices) {
  const sorted = Float64Array.from(slices.flatMap((s) => s.latencies)).sort();
  const ok = sorted.length;
  const statuses = {};
  for (const s of slices)
    for (const [code, n] of Object.entries(s.statuses)) statuses[code] = (statuses[code] ?? 0) + n;
  const completed = Object.values(statuses).reduce((a, b) => a + b, 0);
  const seconds = slices.reduce((a, s) => a + s.seconds, 0);
  const socketErrors = slices.reduce((a, s) => a + s.socketErrors, 0);
  const timeouts = slices.reduce((a, s) => a + s.timeouts, 0);
  const cpus = slices.map((s) => s.cpuMs);
  const cpuMs = cpus.every((c) => c !== null) ? cpus.reduce((a, b) => a + b, 0) : null;
  return {
    seconds: round(seconds, 2),
    connections: slices[0]?.connections ?? 0,
    requests: completed,
    ok,
    rps: round(ok / seconds, 1),
    latency_ms: {
      p50: round(quantile(sorted, 0.5), 3),
      p99: round(quantile(sorted, 0.99), 3),
      p99_9: round(quantile(sorted, 0.999), 3),
      mean: round(ok ? sorted.reduce((a, b) => a + b, 0) / ok : NaN, 3),
      max: round(ok ? sorted[ok - 1] : NaN, 3),
    },
    errors: completed - ok + socketErrors + timeouts,
    statuses,
    socket_errors: socketErrors,
    timeouts,
    // Responses in each second, slice after slice: a falling series means the target slowed as it filled up.
    per_second: slices.flatMap((s) => s.perSecond),
    cpu_ms_per_request: cpuMs !== null && completed > 0 ? round(cpuMs / completed, 3) : null,
  };
}

/** The nearest-rank quantile of an ascending array (NaN when empty). */
export function quantile(sorted, q) {
  if (sorted.length === 0) return NaN;
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

function round(n, digits) {
  if (!Number.isFinite(n)) return null;
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}
