// `npm run bench -- --profile <target>`: samples the V8 CPU profile of the Worker under test (its isolate,
// which also runs its Durable Objects) through the inspector port `wrangler dev` opens, while that target's
// load slices run, and sums the self time per function. This shows where a request's CPU goes on the real
// path, storage included, where the micro-benchmarks show the pure functions alone.

/** A DevTools protocol session with the Worker of the `wrangler dev` whose inspector is on `inspectorPort`. */
export async function inspect(inspectorPort) {
  const [target] = await (await fetch(`http://127.0.0.1:${inspectorPort}/json`)).json();
  if (!target) throw new Error(`no inspector target on :${inspectorPort}`);
  // wrangler's inspector proxy refuses a WebSocket without a local Origin.
  const ws = new WebSocket(target.webSocketDebuggerUrl, { headers: { origin: "http://localhost" } });
  await new Promise((resolve, reject) => {
    ws.addEventListener("open", resolve, { once: true });
    ws.addEventListener("error", () => reject(new Error("inspector connection failed")), { once: true });
  });
  let lastId = 0;
  const waiting = new Map();
  ws.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data));
    waiting.get(message.id)?.(message);
    waiting.delete(message.id);
  });
  const call = (method, params = {}) =>
    new Promise((resolve) => {
      const id = ++lastId;
      waiting.set(id, resolve);
      ws.send(JSON.stringify({ id, method, params }));
    });
  return { call, close: () => ws.close() };
}

/**
 * The Worker's V8 heap in use right after a full garbage collection, in bytes: what its isolate (and the
 * Durable Objects it runs) holds live, without the garbage the RSS also counts.
 */
export async function liveHeapBytes(inspectorPort) {
  const { call, close } = await inspect(inspectorPort);
  try {
    await call("HeapProfiler.collectGarbage");
    const { result } = await call("Runtime.getHeapUsage");
    return result.usedSize;
  } finally {
    close();
  }
}

/** Connects to the inspector of the `wrangler dev` listening on `inspectorPort`. */
export async function connectProfiler(inspectorPort) {
  const { call, close } = await inspect(inspectorPort);
  await call("Profiler.enable");
  const samples = new Map();
  const inclusive = new Map();
  let total = 0;
  return {
    start: () => call("Profiler.start"),
    /** Stops sampling and adds this profile's self time per function to the running totals. */
    async stop() {
      const { result } = await call("Profiler.stop");
      total += addSelfTime(result.profile, samples, inclusive);
    },
    /** The functions with the most self time, as shares of all samples. */
    top(n) {
      return shares(samples, total, n);
    },
    /**
     * The functions with the most total time (self time plus the functions they called, synchronously: an
     * `await` ends a stack, so an async function counts only up to its first await of each resumption).
     */
    topTotal(n) {
      return shares(inclusive, total, n);
    },
    close,
  };
}

function shares(counts, total, n) {
  return [...counts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([fn, count]) => ({ fn, share: Math.round((count / total) * 1000) / 1000 }));
}

function addSelfTime(profile, into, inclusive) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const name = (id) => {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    const where = url ? `${url.replace(/^.*\//, "")}:${lineNumber + 1}` : "native";
    return `${functionName || "(anonymous)"} (${where})`;
  };
  for (const id of profile.samples) {
    const key = name(id);
    into.set(key, (into.get(key) ?? 0) + 1);
    // Each function on the sample's stack once (a recursive one is not counted twice).
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) seen.add(name(at));
    for (const fn of seen) inclusive.set(fn, (inclusive.get(fn) ?? 0) + 1);
  }
  return profile.samples.length;
}
