#!/usr/bin/env node
// `npm run bench:results`: kept results (issue 15) under `wrangler dev` (workerd), against a floor.
//
// For each size (--sizes, MB; default 100 and 300) a fresh simulator, gateway and drain Worker (bench/drain.ts)
// are started on free loopback ports, so each size's VmHWM is its own:
//
// - Copy. The simulator's result size is set (POST /__sim/media), a task created through the gateway and left
//   to complete (callbacks dropped, so the gateway learns the end from the GET poll that first answers
//   `completed`). The copy then runs on the tenant object's alarm (src/results/keeper.ts). Its time runs from
//   the sending of that GET to the moment the gateway's `result_stored` log line reaches this process (the
//   log file is read every 10 ms); `GET /admin/tenants/{id}/tasks/{task}` must then answer
//   `results_stored: true`. So the figure is an upper bound: it also holds the GET, the alarm's start and the
//   tenant record read. The floor: the drain Worker fetching the same simulator link and throwing the bytes
//   away (/fetch), and fetching it into its own local R2 bucket with nothing else (/put).
// - Serving (the first size only, default 100 MB). The kept result streamed whole through its gateway URL
//   (`results[0]` of the GET), against the simulator's link read directly, relayed by the drain Worker, and
//   the drain Worker's own R2 copy; then --ranges reads of 1 MB at random offsets (same offsets everywhere,
//   one at a time), p50 and p99.
//
// Memory is the workerd processes' resident size under each Worker: before, the highest sampled every 20 ms,
// and VmHWM. Every process is stopped at the end. Not part of `npm test`.
import {
  mkdtempSync,
  rmSync,
  writeFileSync,
  mkdirSync,
  openSync,
  readSync,
  closeSync,
  statSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { buildWorker, freePorts, startWorker, waitReady } from "./lib/processes.mjs";
import { sampleMemory, workerdPids } from "./lib/memory.mjs";
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
    sizes: { type: "string", default: "100,300" },
    ranges: { type: "string", default: "200" },
    // Keeps the temporary directory (the Workers' logs and state) for a look after the run.
    keep: { type: "boolean", default: false },
    out: { type: "string", default: join(root, "bench", "results", "results-latest.json") },
  },
});
const MB = 1024 * 1024;
const SIZES = flags.sizes.split(",").map((s) => Math.round(Number(s) * MB));
const RANGES = Math.min(2000, Number(flags.ranges));
const TENANT = "bench-results";
const COPY_TIMEOUT_MS = 10 * 60_000;
const BODY = JSON.stringify({
  model: "wan2.6-reference-video-flash",
  prompt: "A person dancing in the rain, slow camera pan",
  video_urls: ["https://cdn.bench.reelgate.test/ref.mp4"],
});

// Every Worker started, stopped however this process ends (an error, Ctrl-C).
const running = new Set();
const stopRunning = () => {
  for (const w of running) w.stop("SIGKILL");
};
process.on("exit", stopRunning);
for (const signal of ["SIGINT", "SIGTERM"])
  process.on(signal, () => {
    stopRunning();
    process.exit(130);
  });

const seconds = (from) => Number(process.hrtime.bigint() - from) / 1e9;
const round = (n, d = 2) => Number(n.toFixed(d));
const mbps = (bytes, s) => round(bytes / MB / s, 1);

async function json(url, init = {}) {
  const res = await fetch(url, init);
  const text = await res.text();
  if (!res.ok) throw new Error(`${init.method ?? "GET"} ${url}: ${res.status} ${text.slice(0, 300)}`);
  return JSON.parse(text);
}

/** Reads `url` to its end; returns the bytes, the status and the seconds to the last byte. */
async function readAll(url, headers = {}) {
  const started = process.hrtime.bigint();
  const res = await fetch(url, { headers });
  let bytes = 0;
  for await (const chunk of res.body) bytes += chunk.byteLength;
  return { status: res.status, bytes, seconds: seconds(started) };
}

/** New lines of `file` as they are written, each with the time it was seen (polled every `everyMs`). */
function tail(file, everyMs = 10) {
  const lines = [];
  let offset = 0;
  let rest = "";
  let fd;
  const read = () => {
    // The file appears once `wrangler dev`'s output stream has opened it.
    try {
      fd ??= openSync(file, "r");
    } catch {
      return;
    }
    const size = statSync(file).size;
    if (size <= offset) return;
    const buf = Buffer.alloc(size - offset);
    readSync(fd, buf, 0, buf.length, offset);
    offset = size;
    const parts = (rest + buf.toString("utf8")).split("\n");
    rest = parts.pop();
    const at = process.hrtime.bigint();
    for (const line of parts) lines.push({ line, at });
  };
  const timer = setInterval(read, everyMs);
  return {
    find: (pred) => lines.find((l) => pred(l.line)),
    reset: () => (lines.length = 0),
    stop: () => (clearInterval(timer), fd !== undefined && closeSync(fd)),
  };
}

/** A small deterministic PRNG (mulberry32), so every target gets the same offsets. */
function prng(seed) {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function percentile(sorted, p) {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/**
 * Reads of 1 MB at `offsets`, one at a time, each offset read from every target in turn (so a change in the
 * machine's load falls on all alike, and the simulator, which keeps its tasks in memory only while its
 * object lives, keeps being asked); latency to the last byte, in ms.
 */
async function rangeReads(targets, offsets, size) {
  const ms = Object.fromEntries(targets.map(([name]) => [name, []]));
  for (const start of offsets) {
    const end = Math.min(size, start + MB) - 1;
    for (const [name, url] of targets) {
      const r = await readAll(url, { range: `bytes=${start}-${end}` });
      if (r.status !== 206 || r.bytes !== end - start + 1)
        throw new Error(`Range ${start}-${end} of ${url}: ${r.status}, ${r.bytes} bytes`);
      ms[name].push(r.seconds * 1000);
    }
  }
  return Object.fromEntries(
    Object.entries(ms).map(([name, list]) => {
      list.sort((a, b) => a - b);
      const summary = { p50_ms: round(percentile(list, 50)), p99_ms: round(percentile(list, 99)) };
      return [name, { reads: list.length, ...summary, max_ms: round(list.at(-1)) }];
    }),
  );
}

/** The tenant (default retention, 30 days; no storage limit) and a token for it. */
function benchToken(gateway) {
  return hs256Tenant(gateway.url, TENANT, { name: "Results benchmark" });
}

/**
 * A task of `bytes` through the gateway, polled until it has ended; returns its id, its gateway result URL,
 * the simulator's link and when the GET that taught the gateway the end was sent.
 */
async function completedTask(gateway, sim, token, bytes) {
  await json(`${sim.url}/__sim/media`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ bytes }),
  });
  const auth = { authorization: `Bearer ${token}` };
  const created = await json(`${gateway.url}/v1/videos/generations`, {
    method: "POST",
    headers: { ...auth, "content-type": "application/json" },
    body: BODY,
  });
  for (let i = 0; i < 300; i++) {
    const sent = process.hrtime.bigint();
    const view = await json(`${gateway.url}/v1/tasks/${created.id}`, { headers: auth });
    if (view.status === "completed") {
      const simTasks = await json(`${sim.url}/__sim/tasks`);
      const upstream = simTasks.at(-1);
      return {
        id: created.id,
        url: view.results[0],
        source: `${sim.url}/media/${upstream.id}.mp4`,
        ended: sent,
      };
    }
    if (view.status === "failed") throw new Error(`task failed: ${JSON.stringify(view)}`);
    await sleep(100);
  }
  throw new Error("the task did not complete within 30 s");
}

/**
 * Waits for the copy of `task` to be stored: the `result_stored` log line (read every 10 ms) is its end; the
 * admin view, polled every 250 ms meanwhile, must agree. Returns the seconds from `task.ended` to that line.
 */
async function copied(gateway, log, task) {
  const admin = `${gateway.url}/admin/tenants/${TENANT}/tasks/${task.id}`;
  const deadline = Date.now() + COPY_TIMEOUT_MS;
  let storedSeen = null;
  let nextPoll = 0;
  for (;;) {
    const seen = log.find((l) => l.includes('"result_stored"'));
    if (seen) {
      // The line names the task's row id, not its public id: the lines seen so far are dropped for the next copy.
      log.reset();
      const view = await json(admin, { headers: { authorization: `Bearer ${ADMIN}` } });
      if (view.results_stored !== true)
        throw new Error(`logged result_stored, the admin view says ${view.results_stored}`);
      const fields = JSON.parse(seen.line.slice(seen.line.indexOf("{")));
      return { seconds: Number(seen.at - task.ended) / 1e9, logged: fields };
    }
    const problem = log.find((l) => /"result_(lost|copy_retry|storage_refused)"/.test(l));
    if (problem) throw new Error(`copy failed: ${problem.line}`);
    if (Date.now() >= nextPoll) {
      nextPoll = Date.now() + 250;
      const view = await json(admin, { headers: { authorization: `Bearer ${ADMIN}` } });
      if (view.results_stored === true) storedSeen ??= Date.now();
      // Stored, and still no line a second later: the Worker's logs are not reaching the log file.
      if (storedSeen !== null && Date.now() - storedSeen > 1000)
        throw new Error("results_stored is true but no result_stored log line appeared");
    }
    if (Date.now() > deadline) throw new Error("the copy was not stored within 10 minutes");
    await sleep(10);
  }
}

async function runSize(size, serve, built, dir) {
  const tag = `${size / MB}mb`;
  const [simPort, gwPort, drainPort, ...insp] = await freePorts(6);
  const simUrl = `http://127.0.0.1:${simPort}`;
  const sim = startWorker({
    name: "sim",
    config: join(root, "sim", "wrangler.jsonc"),
    script: built.sim,
    port: simPort,
    inspectorPort: insp[0],
    persistTo: join(dir, `sim-${tag}`),
    vars: {
      SIM_API_KEY: SIM_KEY,
      SIM_ALLOW_LOCAL_CALLBACKS: "true",
      SIM_MEDIA_BASE_URL: simUrl,
      SIM_PROCESSING_AFTER_MS: "100",
      SIM_COMPLETE_AFTER_MS: "300",
    },
    logFile: join(dir, `sim-${tag}.log`),
  });
  const gateway = startWorker({
    name: "gateway",
    config: join(root, "wrangler.jsonc"),
    script: built.gateway,
    port: gwPort,
    inspectorPort: insp[1],
    persistTo: join(dir, `gateway-${tag}`),
    vars: {
      UPSTREAM_BASE_URL: simUrl,
      FILES_BASE_URL: simUrl,
      UPSTREAM_API_KEY: SIM_KEY,
      PUBLIC_BASE_URL: `http://127.0.0.1:${gwPort}`,
      ADMIN_TOKEN: ADMIN,
      SIGNING_SECRET: BENCH_SIGNING_SECRET,
      // The copy may fetch the simulator's http://127.0.0.1 links.
      DEV_ALLOW_LOCAL_URLS: "true",
      // The `result_stored` line marks the copy's end.
      LOG_LEVEL: "info",
      TASK_POLL_CACHE_MS: "0",
    },
    logFile: join(dir, `gateway-${tag}.log`),
    logLevel: "log",
  });
  const drain = startWorker({
    name: "drain",
    config: join(root, "bench", "drain.wrangler.jsonc"),
    script: built.drain,
    port: drainPort,
    inspectorPort: insp[2],
    persistTo: join(dir, `drain-${tag}`),
    vars: {},
    logFile: join(dir, `drain-${tag}.log`),
  });
  for (const w of [sim, gateway, drain]) running.add(w);
  const out = { bytes: size, mb: size / MB };
  const log = tail(gateway.logFile);
  try {
    await waitReady(sim, "/__sim/tasks");
    await waitReady(gateway, "/healthz");
    await waitReady(drain, "/");
    // The gateway must learn each end from its own GET, not from a callback racing it.
    await json(`${sim.url}/__sim/faults`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ dropCallbacks: true }),
    });
    const token = await benchToken(gateway);
    const gwPids = workerdPids(gateway.pid);
    const drainPids = workerdPids(drain.pid);
    if (!gwPids.length || !drainPids.length) throw new Error("no workerd process found");

    // Warm-up: one 2 MB result copied and served, and the floor's paths, before anything is measured.
    const warm = await completedTask(gateway, sim, token, 2 * MB);
    // Its end-to-stored time is mostly the fixed part (the GET, the alarm's start, the record read).
    out.warm_copy_2mb_seconds = round((await copied(gateway, log, warm)).seconds);
    await readAll(warm.url);
    await json(`${drain.url}/fetch?url=${encodeURIComponent(warm.source)}`);
    await json(`${drain.url}/put?key=warm&url=${encodeURIComponent(warm.source)}`);
    await readAll(`${drain.url}/r2/warm`);

    // The copy.
    const gwMem = sampleMemory(gwPids);
    const task = await completedTask(gateway, sim, token, size);
    const copy = await copied(gateway, log, task);
    const copyMem = gwMem.stop();
    if (copy.logged.bytes !== size) throw new Error(`stored ${copy.logged.bytes} bytes, expected ${size}`);
    out.copy = { seconds: round(copy.seconds), mb_per_s: mbps(size, copy.seconds), memory: copyMem };

    // The floor: fetch and drain, then fetch into R2, in the drain Worker.
    let mem = sampleMemory(drainPids);
    let started = process.hrtime.bigint();
    const drained = await json(`${drain.url}/fetch?url=${encodeURIComponent(task.source)}`);
    let s = seconds(started);
    if (drained.bytes !== size) throw new Error(`the floor drained ${drained.bytes} bytes`);
    out.floor_fetch_drain = { seconds: round(s), mb_per_s: mbps(size, s), memory: mem.stop() };
    mem = sampleMemory(drainPids);
    started = process.hrtime.bigint();
    const put = await json(`${drain.url}/put?key=floor&url=${encodeURIComponent(task.source)}`);
    s = seconds(started);
    if (put.bytes !== size) throw new Error(`the floor stored ${put.bytes} bytes`);
    out.floor_fetch_put = { seconds: round(s), mb_per_s: mbps(size, s), memory: mem.stop() };

    if (serve) {
      // The simulator's link first: its object keeps the task in memory only while it is asked.
      const targets = [
        ["sim_direct", task.source, null],
        ["drain_relay", `${drain.url}/relay?url=${encodeURIComponent(task.source)}`, drainPids],
        ["gateway", task.url, gwPids],
        ["drain_r2", `${drain.url}/r2/floor`, drainPids],
      ];
      out.serve = {};
      for (const [name, url, pids] of targets) {
        const m = pids && sampleMemory(pids);
        const r = await readAll(url);
        if (r.status !== 200 || r.bytes !== size)
          throw new Error(`${name} served ${r.status}, ${r.bytes} bytes`);
        out.serve[name] = {
          seconds: round(r.seconds),
          mb_per_s: mbps(size, r.seconds),
          ...(m && { memory: m.stop() }),
        };
      }
      const next = prng(15);
      const offsets = Array.from({ length: RANGES }, () => Math.floor(next() * (size - MB)));
      out.ranges = await rangeReads(targets, offsets, size);
    }
    return out;
  } finally {
    log.stop();
    for (const w of [gateway, drain, sim]) w.stop();
    await Promise.race([
      Promise.all([gateway.exited, drain.exited, sim.exited]),
      new Promise((r) => setTimeout(r, 5000)),
    ]);
    for (const w of [gateway, drain, sim]) (w.stop("SIGKILL"), running.delete(w));
  }
}

function table(results) {
  const rows = [["what", "size", "s", "MB/s", "RSS before", "peak", "growth", "VmHWM"]];
  const add = (what, r, size) =>
    rows.push([
      what,
      `${size} MB`,
      String(r.seconds),
      String(r.mb_per_s),
      ...(r.memory
        ? [
            r.memory.rss_before_mb,
            r.memory.rss_peak_sampled_mb,
            r.memory.rss_growth_mb,
            r.memory.vm_hwm_mb,
          ].map(String)
        : ["", "", "", ""]),
    ]);
  for (const r of results) {
    add("copy (gateway)", r.copy, r.mb);
    add("floor: fetch+drain", r.floor_fetch_drain, r.mb);
    add("floor: fetch+R2 put", r.floor_fetch_put, r.mb);
    for (const [name, v] of Object.entries(r.serve ?? {})) add(`serve: ${name}`, v, r.mb);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  const lines = rows.map((row) =>
    row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join("  "),
  );
  for (const r of results)
    for (const [name, v] of Object.entries(r.ranges ?? {}))
      lines.push(
        `range 1 MB × ${v.reads} (${r.mb} MB file), ${name}: p50 ${v.p50_ms} ms, p99 ${v.p99_ms} ms, max ${v.max_ms} ms`,
      );
  return lines.join("\n");
}

const dir = mkdtempSync(join(tmpdir(), "reelgate-results-bench-"));
try {
  console.log(`[bench:results] building the gateway, the simulator and the drain Worker…`);
  const built = {
    gateway: buildWorker(join(root, "wrangler.jsonc"), join(dir, "gateway-build")),
    sim: buildWorker(join(root, "sim", "wrangler.jsonc"), join(dir, "sim-build")),
    drain: buildWorker(join(root, "bench", "drain.wrangler.jsonc"), join(dir, "drain-build")),
  };
  const results = [];
  for (const [i, size] of SIZES.entries()) {
    console.log(`[bench:results] ${size / MB} MB: copy${i === 0 ? ", serving and Range reads" : ""}…`);
    const r = await runSize(size, i === 0, built, dir);
    console.log(`[bench:results] ${JSON.stringify(r)}`);
    results.push(r);
  }
  const report = { at: new Date().toISOString(), node: process.version, range_reads: RANGES, results };
  mkdirSync(dirname(flags.out), { recursive: true });
  writeFileSync(flags.out, JSON.stringify(report, null, 2) + "\n");
  console.log(table(results));
  console.log(`[bench:results] wrote ${flags.out}`);
} finally {
  if (flags.keep) console.log(`[bench:results] kept ${dir}`);
  else rmSync(dir, { recursive: true, force: true });
}
