#!/usr/bin/env node
// `npm run bench:upload`: one 100 MB MP4-looking file streamed through the gateway's
// POST /api/v1/files/upload/stream under `wrangler dev` (workerd), per backend (FILES_BACKEND=r2 into the
// local R2 bucket, FILES_BACKEND=evolink into the simulator's files API) and to the drain-only Worker (the
// floor), all running at once and taken in turn for `--rounds` rounds; it reports each upload's throughput
// and its ratio to the floor of the same round, and the workerd's memory: resident size before, the highest
// sampled during the upload, and the kernel's high-water mark (VmHWM). Free random ports; every process is
// stopped at the end. Not part of `npm test`.
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { workerdPids, memKb } from "./lib/memory.mjs";
import { buildWorker, freePorts, startWorker, waitReady } from "./lib/processes.mjs";
import { connectProfiler } from "./lib/profile.mjs";
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
    mb: { type: "string", default: "100" },
    backends: { type: "string", default: "drain,r2-floor,r2,sim,evolink" },
    out: { type: "string", default: join(root, "bench", "results", "upload-latest.json") },
    // Every target runs once per round, in turn; each gateway upload is read against its round's floor.
    rounds: { type: "string", default: "3" },
    // Samples the V8 CPU profile of the Worker during each measured upload (built unminified) and prints the
    // functions with the most self and total time; the figures are then not the official ones.
    profile: { type: "boolean", default: false },
  },
});
const SIZE = Math.round(Number(flags.mb) * 1024 * 1024);
const CHUNK = 64 * 1024;

/** A multipart body of SIZE bytes of file: an MP4 `ftyp` box, then filler, produced as it is sent. */
function* body(boundary, size) {
  yield Buffer.from(
    `--${boundary}\r\ncontent-disposition: form-data; name="file"; filename="bench.mp4"\r\ncontent-type: video/mp4\r\n\r\n`,
  );
  const head = Buffer.concat([
    Buffer.from([0, 0, 0, 24]),
    Buffer.from("ftypisom"),
    Buffer.from([0, 0, 2, 0]),
    Buffer.from("isomiso2"),
  ]);
  const filler = Buffer.alloc(CHUNK, 0x6d);
  let sent = 0;
  const first = Buffer.concat([head, filler.subarray(0, CHUNK - head.length)]);
  yield first.subarray(0, Math.min(size, CHUNK));
  sent = Math.min(size, CHUNK);
  while (sent < size) {
    const n = Math.min(CHUNK, size - sent);
    yield filler.subarray(0, n);
    sent += n;
  }
  yield Buffer.from(`\r\n--${boundary}--\r\n`);
}

function upload(url, token, size) {
  const boundary = "benchboundary7a9f";
  return new Promise((resolvePromise, reject) => {
    const req = request(
      url,
      {
        method: "POST",
        headers: {
          authorization: `Bearer ${token}`,
          "content-type": `multipart/form-data; boundary=${boundary}`,
          "transfer-encoding": "chunked",
        },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d) => (text += d));
        res.on("end", () => resolvePromise({ status: res.statusCode, text }));
      },
    );
    req.on("error", reject);
    const it = body(boundary, size);
    const pump = () => {
      for (;;) {
        const next = it.next();
        if (next.done) return req.end();
        if (!req.write(next.value)) return req.once("drain", pump);
      }
    };
    pump();
  });
}

/** Creates the benchmark tenant on `gateway` and returns a token for it. */
function benchToken(gateway) {
  return hs256Tenant(gateway.url, "bench-upload", { name: "Upload benchmark" });
}

/** Starts the simulator and one `wrangler dev` per target (the drain Worker, or the gateway on a backend). */
async function startTargets(backends, built, dir) {
  const [simPort, simInsp] = await freePorts(2);
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
      SIM_FILES_MAX_BYTES: String(Math.max(SIZE, 100 * 1024 * 1024)),
    },
    logFile: join(dir, "sim.log"),
  });
  // Targets: "drain" (the floor: a Worker that reads the body and drops it), "r2-floor" (the same Worker
  // storing the body in R2 as fast as it can), "sim" (straight into the simulator's files API, no Worker
  // between: what the EvoLink backend's upstream takes in), and any other name is the gateway with that
  // FILES_BACKEND.
  const targets = [];
  for (const backend of backends) {
    if (backend === "sim") {
      targets.push({
        backend,
        floor: true,
        worker: sim,
        path: "/api/v1/files/upload/stream",
        token: SIM_KEY,
      });
      continue;
    }
    const [port, inspectorPort] = await freePorts(2);
    const floor = backend === "drain" || backend === "r2-floor";
    const worker = startWorker({
      name: floor ? backend : `gateway-${backend}`,
      config: floor ? join(root, "bench", "drain.wrangler.jsonc") : join(root, "wrangler.jsonc"),
      script: floor ? built.drain : built.gateway,
      port,
      inspectorPort,
      persistTo: join(dir, `gateway-${backend}`),
      vars: {
        UPSTREAM_BASE_URL: `http://127.0.0.1:${simPort}`,
        FILES_BASE_URL: `http://127.0.0.1:${simPort}`,
        UPSTREAM_API_KEY: SIM_KEY,
        PUBLIC_BASE_URL: `http://127.0.0.1:${port}`,
        ADMIN_TOKEN: ADMIN,
        SIGNING_SECRET: BENCH_SIGNING_SECRET,
        DEV_ALLOW_LOCAL_URLS: "true",
        LOG_LEVEL: "warn",
        FILES_BACKEND: backend,
        // Room for larger runs (--mb 300) that show the memory does not grow with the file.
        MAX_UPLOAD_BYTES: String(Math.max(SIZE, 100 * 1024 * 1024)),
      },
      logFile: join(dir, `gateway-${backend}.log`),
    });
    const path = backend === "drain" ? "/" : backend === "r2-floor" ? "/r2" : "/api/v1/files/upload/stream";
    targets.push({ backend, floor, worker, path, token: floor ? "none" : null });
  }
  await waitReady(sim, "/__sim/tasks");
  for (const t of targets) {
    if (t.backend !== "sim") await waitReady(t.worker, t.floor ? "/" : "/healthz");
    t.token ??= await benchToken(t.worker);
    t.url = `${t.worker.url}${t.path}`;
    // A small upload first, so the isolate and the tenant object are warm before the measured ones.
    const warm = await upload(t.url, t.token, 1024 * 1024);
    if (warm.status !== 200)
      throw new Error(`${t.backend}: warm-up upload answered ${warm.status}: ${warm.text.slice(0, 300)}`);
    t.pids = workerdPids(t.worker.pid);
    if (t.pids.length === 0) throw new Error(`no workerd process found under ${t.worker.name}`);
  }
  return { sim, targets };
}

/** One measured upload of SIZE bytes to `t`, with its workerd's memory sampled every 20 ms. */
async function measure(t) {
  const baseline = Math.max(...t.pids.map((p) => memKb(p, "VmRSS")));
  let peak = baseline;
  const sampler = setInterval(() => {
    for (const p of t.pids) peak = Math.max(peak, memKb(p, "VmRSS"));
  }, 20);
  const profiler = flags.profile ? await connectProfiler(t.worker.inspectorPort) : null;
  await profiler?.start();
  const started = process.hrtime.bigint();
  const res = await upload(t.url, t.token, SIZE);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  if (profiler) {
    await profiler.stop();
    const show = (rows) => rows.map((r) => `  ${(r.share * 100).toFixed(1)}% ${r.fn}`).join("\n");
    console.log(`[bench:upload] ${t.backend} self time:\n${show(profiler.top(20))}`);
    console.log(`[bench:upload] ${t.backend} total time:\n${show(profiler.topTotal(30))}`);
    profiler.close();
  }
  clearInterval(sampler);
  for (const p of t.pids) peak = Math.max(peak, memKb(p, "VmRSS"));
  const hwm = Math.max(...t.pids.map((p) => memKb(p, "VmHWM")));
  if (res.status !== 200) throw new Error(`upload answered ${res.status}: ${res.text.slice(0, 300)}`);
  const data = JSON.parse(res.text).data;
  // The drain Worker counts the whole form, its part headers and delimiters included.
  if (t.floor ? data.file_size < SIZE : data.file_size !== SIZE)
    throw new Error(`stored ${data.file_size} bytes, sent ${SIZE}`);
  return {
    backend: t.backend,
    bytes: SIZE,
    seconds: Number(seconds.toFixed(2)),
    mb_per_s: Number((SIZE / 1024 / 1024 / seconds).toFixed(1)),
    workerd_rss_before_mb: Number((baseline / 1024).toFixed(1)),
    workerd_rss_peak_sampled_mb: Number((peak / 1024).toFixed(1)),
    workerd_rss_growth_mb: Number(((peak - baseline) / 1024).toFixed(1)),
    workerd_vm_hwm_mb: Number((hwm / 1024).toFixed(1)),
  };
}

const pct = (x) => `${(x * 100).toFixed(0)}%`;
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const dir = mkdtempSync(join(tmpdir(), "reelgate-upload-bench-"));
let running = null;
try {
  console.log(`[bench:upload] building the gateway and the simulator…`);
  const built = {
    gateway: buildWorker(join(root, "wrangler.jsonc"), join(dir, "gateway-build"), { names: flags.profile }),
    sim: buildWorker(join(root, "sim", "wrangler.jsonc"), join(dir, "sim-build")),
    drain: buildWorker(join(root, "bench", "drain.wrangler.jsonc"), join(dir, "drain-build")),
  };
  const backends = flags.backends.split(",");
  running = await startTargets(backends, built, dir);
  const rounds = [];
  // Every target once per round, in turn, so the machine's load falls on each alike; each gateway upload is
  // read against the drain floor of its own round.
  for (let round = 1; round <= Number(flags.rounds); round++) {
    const runs = [];
    for (const t of running.targets) {
      console.log(`[bench:upload] round ${round}, ${t.backend}: streaming ${flags.mb} MB…`);
      const r = await measure(t);
      console.log(`[bench:upload] ${JSON.stringify(r)}`);
      runs.push(r);
    }
    const floor = runs.find((r) => r.backend === "drain");
    for (const r of runs)
      if (floor && r !== floor) r.of_floor = Number((r.mb_per_s / floor.mb_per_s).toFixed(3));
    // Each gateway backend also against the same round's upload straight into that backend.
    const own = { r2: "r2-floor", evolink: "sim" };
    for (const r of runs) {
      const base = runs.find((x) => x.backend === own[r.backend]);
      if (base) r.of_backend_floor = Number((r.mb_per_s / base.mb_per_s).toFixed(3));
    }
    rounds.push(runs);
  }
  const results = backends.map((backend) => {
    const runs = rounds.map((rs) => rs.find((r) => r.backend === backend));
    const summary = {
      backend,
      bytes: SIZE,
      mb_per_s_median: Number(median(runs.map((r) => r.mb_per_s)).toFixed(1)),
      mb_per_s: runs.map((r) => r.mb_per_s),
      workerd_rss_growth_mb_max: Math.max(...runs.map((r) => r.workerd_rss_growth_mb)),
      workerd_vm_hwm_mb: Math.max(...runs.map((r) => r.workerd_vm_hwm_mb)),
    };
    if (backend !== "drain" && runs[0].of_floor !== undefined) {
      summary.of_floor = runs.map((r) => r.of_floor);
      summary.of_floor_median = Number(median(summary.of_floor).toFixed(3));
    }
    if (runs[0].of_backend_floor !== undefined) {
      summary.of_backend_floor = runs.map((r) => r.of_backend_floor);
      summary.of_backend_floor_median = Number(median(summary.of_backend_floor).toFixed(3));
    }
    return summary;
  });
  console.log("[bench:upload] summary (MB/s per round; ratios to the same round's floors):");
  for (const r of results)
    console.log(
      `  ${r.backend.padEnd(8)} median ${r.mb_per_s_median} MB/s [${r.mb_per_s.join(", ")}]` +
        (r.of_floor ? `; ÷ drain ${pct(r.of_floor_median)} [${r.of_floor.map(pct).join(", ")}]` : "") +
        (r.of_backend_floor
          ? `; ÷ its backend's floor ${pct(r.of_backend_floor_median)} [${r.of_backend_floor.map(pct).join(", ")}]`
          : "") +
        `, memory growth ≤ ${r.workerd_rss_growth_mb_max} MB`,
    );
  const report = {
    at: new Date().toISOString(),
    node: process.version,
    file_mb: Number(flags.mb),
    rounds_run: Number(flags.rounds),
    results,
    rounds,
  };
  if (flags.profile) flags.out = join(root, ".wrangler", "bench", "upload-profile.json");
  mkdirSync(dirname(flags.out), { recursive: true });
  writeFileSync(flags.out, JSON.stringify(report, null, 2) + "\n");
  console.log(`[bench:upload] wrote ${flags.out}`);
} finally {
  if (running) {
    const workers = [running.sim, ...running.targets.filter((t) => t.backend !== "sim").map((t) => t.worker)];
    for (const w of workers) w.stop();
    await Promise.race([Promise.all(workers.map((w) => w.exited)), new Promise((r) => setTimeout(r, 5000))]);
    for (const w of workers) w.stop("SIGKILL");
  }
  rmSync(dir, { recursive: true, force: true });
}
