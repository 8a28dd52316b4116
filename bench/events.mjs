#!/usr/bin/env node
// `npm run bench:events`: 1,000 event streams (GET /v1/tasks/{id}/events) open on one task of the gateway
// under `wrangler dev` (workerd), the simulator as its upstream, both on 127.0.0.1. Reports how many times
// the upstream was asked about the task per second while the streams were open (the simulator's own record,
// /__sim/requests), the gateway's workerd memory before and with the streams open, and the time from the
// task's end (the upstream's, and the callback that told the gateway) to the last stream's final event.
// Free random ports; every process and socket is closed at the end. Not part of `npm test`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { setTimeout as sleep } from "node:timers/promises";
import { memKb, workerdPids } from "./lib/memory.mjs";
import { buildWorker, freePorts, startWorker, waitReady } from "./lib/processes.mjs";
import { liveHeapBytes } from "./lib/profile.mjs";
import {
  BENCH_ADMIN_TOKEN as ADMIN,
  BENCH_SIGNING_SECRET,
  BENCH_SIM_KEY as SIM_KEY,
  hs256Tenant,
} from "./lib/tenants.mjs";

process.env.WRANGLER_SEND_METRICS ??= "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values: flags } = parseArgs({
  options: {
    streams: { type: "string", default: "1000" },
    // The task runs this long upstream: time to open every stream, then a steady window.
    "task-ms": { type: "string", default: "60000" },
    "poll-ms": { type: "string", default: "5000" },
    out: { type: "string", default: join(root, "bench", "results", "events-latest.json") },
  },
});
const STREAMS = Number(flags.streams);
async function json(url, init = {}) {
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${url}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** The tenant (streams limits above the benchmark's count) and a token without `sub` (tenant-wide). */
function benchToken(gateway) {
  return hs256Tenant(
    gateway.url,
    "bench-events",
    { name: "Events benchmark", quotas: { max_event_streams: STREAMS * 2 } },
    { sub: null },
  );
}

/**
 * One stream, read as it arrives: when it opened, its events, when the final one came. A 429 (the read
 * limit: 1,000 reads per 10 s per tenant) is retried after its Retry-After.
 */
async function openStream(url, token, controller, stats) {
  for (;;) {
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${token}` },
      signal: controller.signal,
    });
    if (res.status === 429) {
      stats.refused++;
      await res.arrayBuffer();
      await sleep(Number(res.headers.get("retry-after") ?? "1") * 1000);
      continue;
    }
    if (res.status !== 200)
      throw new Error(`stream answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    const stream = { events: 0, finalAt: null, final: null, arrivals: new Map() };
    const done = (async () => {
      const decoder = new TextDecoder();
      let buffer = "";
      try {
        for await (const chunk of res.body) {
          buffer += decoder.decode(chunk, { stream: true });
          for (let at = buffer.indexOf("\n\n"); at >= 0; at = buffer.indexOf("\n\n")) {
            const block = buffer.slice(0, at);
            buffer = buffer.slice(at + 2);
            const name = /^event: (.+)$/m.exec(block)?.[1];
            if (!name) continue;
            stream.events++;
            const id = /^id: (\d+)$/m.exec(block)?.[1];
            if (id) stream.arrivals.set(id, Date.now());
            if (name !== "progress") {
              stream.finalAt = Date.now();
              stream.final = name;
            }
          }
        }
      } catch (err) {
        if (!controller.signal.aborted) throw err;
      }
    })();
    return { stream, done };
  }
}

/** The floor: the same number of never-ending event streams from a Worker that does nothing else. */
async function floor(built, dir) {
  const [port, insp] = await freePorts(2);
  const w = startWorker({
    name: "sse-floor",
    config: join(root, "bench", "sse-floor.wrangler.jsonc"),
    script: built.floor,
    port,
    inspectorPort: insp,
    persistTo: join(dir, "floor"),
    vars: {},
    logFile: join(dir, "floor.log"),
  });
  const controller = new AbortController();
  try {
    await waitReady(w, "/", 60_000).catch(() => {});
    const pids = workerdPids(w.pid);
    const rss = () => pids.reduce((sum, p) => sum + memKb(p, "VmRSS"), 0);
    await openStream(`${w.url}/warm`, "none", controller, { refused: 0 });
    await sleep(1_500);
    const baseline = rss();
    const heapBefore = await liveHeapBytes(insp);
    const streams = [];
    for (let i = 0; i < STREAMS; i += 100) {
      const batch = Array.from({ length: Math.min(100, STREAMS - i) }, () =>
        openStream(`${w.url}/`, "none", controller, { refused: 0 }),
      );
      streams.push(...(await Promise.all(batch)));
    }
    let peak = rss();
    for (let i = 0; i < 50; i++) {
      await sleep(100);
      peak = Math.max(peak, rss());
    }
    const heapOpen = await liveHeapBytes(insp);
    return {
      floor_live_heap_per_stream_kb: Number(((heapOpen - heapBefore) / 1024 / STREAMS).toFixed(1)),
      floor_rss_before_mb: Number((baseline / 1024).toFixed(1)),
      floor_rss_growth_mb: Number(((peak - baseline) / 1024).toFixed(1)),
      floor_rss_growth_per_stream_kb: Number(((peak - baseline) / STREAMS).toFixed(1)),
    };
  } finally {
    controller.abort();
    w.stop();
    await Promise.race([w.exited, new Promise((r) => setTimeout(r, 5000))]);
    w.stop("SIGKILL");
  }
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

async function run(built, dir) {
  const [simPort, gwPort, simInsp, gwInsp] = await freePorts(4);
  const sim = startWorker({
    name: "sim",
    config: join(root, "sim", "wrangler.jsonc"),
    script: built.sim,
    port: simPort,
    inspectorPort: simInsp,
    persistTo: join(dir, "sim"),
    vars: {
      SIM_API_KEY: SIM_KEY,
      SIM_ALLOW_LOCAL_CALLBACKS: "true",
      SIM_PROCESSING_AFTER_MS: "2000",
      SIM_COMPLETE_AFTER_MS: flags["task-ms"],
      SIM_MEDIA_BASE_URL: `http://127.0.0.1:${simPort}`,
    },
    logFile: join(dir, "sim.log"),
  });
  const gateway = startWorker({
    name: "gateway",
    config: join(root, "wrangler.jsonc"),
    script: built.gateway,
    port: gwPort,
    inspectorPort: gwInsp,
    persistTo: join(dir, "gateway"),
    vars: {
      UPSTREAM_BASE_URL: `http://127.0.0.1:${simPort}`,
      UPSTREAM_API_KEY: SIM_KEY,
      PUBLIC_BASE_URL: `http://127.0.0.1:${gwPort}`,
      ADMIN_TOKEN: ADMIN,
      SIGNING_SECRET: BENCH_SIGNING_SECRET,
      DEV_ALLOW_LOCAL_URLS: "true",
      LOG_LEVEL: "warn",
      EVENTS_POLL_MS: flags["poll-ms"],
    },
    logFile: join(dir, "gateway.log"),
  });
  const controller = new AbortController();
  try {
    await waitReady(sim, "/__sim/tasks");
    await waitReady(gateway, "/healthz");
    const token = await benchToken(gateway);
    const auth = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    // A warm-up task and stream, so the isolate, the tenant's object and its caches are up before measuring.
    const createTask = () =>
      json(`${gateway.url}/v1/videos/generations`, {
        method: "POST",
        headers: auth,
        body: JSON.stringify({
          model: "wan2.6-reference-video-flash",
          prompt: "A person dancing in the rain",
          video_urls: ["https://cdn.example.com/reference.mp4"],
        }),
      });
    const warm = await createTask();
    await openStream(`${gateway.url}/v1/tasks/${warm.id}/events`, token, controller, { refused: 0 });
    await sleep(1_500);

    const pids = workerdPids(gateway.pid);
    if (pids.length === 0) throw new Error("no workerd process found under the gateway");
    const rss = () => pids.reduce((sum, p) => sum + memKb(p, "VmRSS"), 0);
    const baseline = rss();
    const heapBefore = await liveHeapBytes(gwInsp);

    const task = await createTask();
    const simTasks = await json(`${sim.url}/__sim/tasks`);
    const upstreamId = simTasks.at(-1).id; // the newest: the warm-up task is the first
    const countQueries = async () =>
      (await json(`${sim.url}/__sim/requests`)).filter(
        (r) => r.method === "GET" && r.path === `/v1/tasks/${upstreamId}`,
      ).length;

    const url = `${gateway.url}/v1/tasks/${task.id}/events`;
    const stats = { refused: 0 };
    const openStarted = Date.now();
    const streams = [];
    for (let i = 0; i < STREAMS; i += 100) {
      const batch = Array.from({ length: Math.min(100, STREAMS - i) }, () =>
        openStream(url, token, controller, stats),
      );
      streams.push(...(await Promise.all(batch)));
    }
    const openSeconds = (Date.now() - openStarted) / 1000;
    const queriesAtOpen = await countQueries();
    console.log(
      `[bench:events] ${streams.length} streams open in ${openSeconds.toFixed(1)} s (${stats.refused} read-limit retries); ${queriesAtOpen} upstream queries so far`,
    );

    // The steady window: every stream open, the task running.
    let peak = rss();
    const sampler = setInterval(() => (peak = Math.max(peak, rss())), 100);
    const windowStart = Date.now();
    const before = await countQueries();
    const windowMs = Math.max(5_000, Number(flags["task-ms"]) - (Date.now() - openStarted) - 10_000);
    await sleep(windowMs);
    const during = (await countQueries()) - before;
    const windowSeconds = (Date.now() - windowStart) / 1000;
    const rssOpen = rss();
    const heapOpen = await liveHeapBytes(gwInsp);
    console.log(
      `[bench:events] steady ${windowSeconds.toFixed(1)} s: ${during} upstream queries; workerd RSS ${(rssOpen / 1024).toFixed(1)} MB`,
    );

    // The end: the simulator finishes the task and calls back; every stream gets its final event and closes.
    const endDeadline = Date.now() + Number(flags["task-ms"]) + 30_000;
    while (streams.some((s) => s.stream.finalAt === null) && Date.now() < endDeadline) await sleep(200);
    clearInterval(sampler);
    await Promise.all(streams.map((s) => s.done));
    const ended = (await json(`${sim.url}/__sim/tasks`)).find((t) => t.id === upstreamId);
    const callback = (await json(`${sim.url}/__sim/callbacks`)).find((c) => c.taskId === upstreamId);
    const finals = streams.map((s) => s.stream.finalAt).filter((t) => t !== null);
    const sorted = [...finals].sort((a, b) => a - b);
    const last = sorted.at(-1);
    // The last progress update every stream got: how long it took to reach all of them.
    const common = [...streams[0].stream.arrivals.keys()]
      .filter((id) => id !== "9000" && streams.every((x) => x.stream.arrivals.has(id)))
      .at(-1);
    const spread = common
      ? Math.max(...streams.map((x) => x.stream.arrivals.get(common))) -
        Math.min(...streams.map((x) => x.stream.arrivals.get(common)))
      : null;
    const vmHwm = pids.reduce((sum, p) => sum + memKb(p, "VmHWM"), 0);
    return {
      streams: STREAMS,
      events_poll_ms: Number(flags["poll-ms"]),
      open_seconds: Number(openSeconds.toFixed(1)),
      read_limit_retries: stats.refused,
      upstream_queries_while_opening: queriesAtOpen,
      steady_window_s: Number(windowSeconds.toFixed(1)),
      upstream_queries_in_window: during,
      upstream_queries_per_s: Number((during / windowSeconds).toFixed(3)),
      upstream_queries_total: await countQueries(),
      live_heap_per_stream_kb: Number(((heapOpen - heapBefore) / 1024 / STREAMS).toFixed(1)),
      workerd_rss_before_mb: Number((baseline / 1024).toFixed(1)),
      workerd_rss_open_mb: Number((rssOpen / 1024).toFixed(1)),
      workerd_rss_peak_sampled_mb: Number((peak / 1024).toFixed(1)),
      workerd_rss_growth_mb: Number(((peak - baseline) / 1024).toFixed(1)),
      workerd_rss_growth_per_stream_kb: Number(((peak - baseline) / STREAMS).toFixed(1)),
      workerd_vm_hwm_mb: Number((vmHwm / 1024).toFixed(1)),
      finals_received: finals.length,
      final_events: [...new Set(streams.map((s) => s.stream.final))],
      events_per_stream_max: Math.max(...streams.map((s) => s.stream.events)),
      upstream_end_to_last_final_ms: ended?.finishedAt ? last - ended.finishedAt : null,
      progress_update_spread_ms: spread,
      callback_to_first_final_ms: callback ? sorted[0] - callback.at : null,
      callback_to_median_final_ms: callback ? percentile(sorted, 50) - callback.at : null,
      callback_to_p10_final_ms: callback ? percentile(sorted, 10) - callback.at : null,
      callback_to_last_final_ms: callback ? last - callback.at : null,
    };
  } finally {
    controller.abort();
    gateway.stop();
    sim.stop();
    await Promise.race([Promise.all([gateway.exited, sim.exited]), new Promise((r) => setTimeout(r, 5000))]);
    gateway.stop("SIGKILL");
    sim.stop("SIGKILL");
  }
}

const dir = mkdtempSync(join(tmpdir(), "reelgate-events-bench-"));
try {
  console.log(`[bench:events] building the gateway and the simulator…`);
  const built = {
    gateway: buildWorker(join(root, "wrangler.jsonc"), join(dir, "gateway-build")),
    sim: buildWorker(join(root, "sim", "wrangler.jsonc"), join(dir, "sim-build")),
    floor: buildWorker(join(root, "bench", "sse-floor.wrangler.jsonc"), join(dir, "floor-build")),
  };
  console.log(`[bench:events] floor: ${STREAMS} streams from a Worker that only streams…`);
  const floorResult = await floor(built, dir);
  console.log(`[bench:events] ${JSON.stringify(floorResult)}`);
  const result = { ...(await run(built, dir)), ...floorResult };
  console.log(`[bench:events] ${JSON.stringify(result)}`);
  const report = { at: new Date().toISOString(), node: process.version, ...result };
  mkdirSync(dirname(flags.out), { recursive: true });
  writeFileSync(flags.out, JSON.stringify(report, null, 2) + "\n");
  console.log(`[bench:events] wrote ${flags.out}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
