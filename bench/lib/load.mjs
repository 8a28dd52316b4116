// One load run against one target with autocannon: a fixed number of connections, each sending its next
// request as soon as the last one answered, for a fixed time, then it stops by itself. Latency percentiles
// are computed here from every 2xx response time (autocannon's own histogram rounds to whole milliseconds,
// too coarse for sub-millisecond differences); anything but a 2xx, and every socket error, is an error.
import autocannon from "autocannon";

/**
 * @param {{ url: string, method?: string, headers?: Record<string,string>, body?: string,
 *           connections: number, durationS: number }} target
 * @param {{ cpu?: () => number | null }} [probe] CPU clock (ms) of the Worker under test, read around the run
 */
export async function runLoad(target, probe = {}) {
  const latencies = [];
  const statuses = {};
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
  instance.on("response", (_client, statusCode, _bytes, responseTime) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
  const result = await instance;
  const cpuAfter = probe.cpu?.() ?? null;
  return summarize(result, latencies, statuses, cpuBefore, cpuAfter);
}

function summarize(result, latencies, statuses, cpuBefore, cpuAfter) {
  const sorted = Float64Array.from(latencies).sort();
  const ok = sorted.length;
  const completed = Object.values(statuses).reduce((a, b) => a + b, 0);
  const seconds = result.duration;
  const cpuMs = cpuBefore !== null && cpuAfter !== null ? cpuAfter - cpuBefore : null;
  return {
    seconds: round(seconds, 2),
    connections: result.connections,
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
    errors: completed - ok + result.errors + result.timeouts,
    statuses,
    socket_errors: result.errors,
    timeouts: result.timeouts,
    rps_per_second: { min: result.requests.min, max: result.requests.max },
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
