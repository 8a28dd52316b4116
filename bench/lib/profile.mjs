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
  let total = 0;
  return {
    start: () => call("Profiler.start"),
    /** Stops sampling and adds this profile's self time per function to the running totals. */
    async stop() {
      const { result } = await call("Profiler.stop");
      total += addSelfTime(result.profile, samples);
    },
    /** The functions with the most self time, as shares of all samples. */
    top(n) {
      return [...samples]
        .sort((a, b) => b[1] - a[1])
        .slice(0, n)
        .map(([fn, count]) => ({ fn, share: Math.round((count / total) * 1000) / 1000 }));
    },
    close,
  };
}

function addSelfTime(profile, into) {
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const id of profile.samples) {
    const { functionName, url, lineNumber } = nodes.get(id).callFrame;
    const where = url ? `${url.replace(/^.*\//, "")}:${lineNumber + 1}` : "native";
    const key = `${functionName || "(anonymous)"} (${where})`;
    into.set(key, (into.get(key) ?? 0) + 1);
  }
  return profile.samples.length;
}
