#!/usr/bin/env node
// `npm run bench:upload`: one 100 MB MP4-looking file streamed through the gateway's
// POST /api/v1/files/upload/stream under `wrangler dev` (workerd), once per backend (FILES_BACKEND=r2 into the
// local R2 bucket, FILES_BACKEND=evolink into the simulator's files API), reporting the throughput and the
// gateway's workerd memory: resident size before, the highest sampled during the upload, and the kernel's
// high-water mark (VmHWM). Free random ports; every process is stopped at the end. Not part of `npm test`.
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
    backends: { type: "string", default: "drain,r2,evolink" },
    out: { type: "string", default: join(root, "bench", "results", "upload-latest.json") },
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

async function runBackend(backend, built, dir) {
  const [simPort, gwPort, simInsp, gwInsp] = await freePorts(4);
  const sim = startWorker({
    name: "sim",
    config: join(root, "sim", "wrangler.jsonc"),
    script: built.sim,
    port: simPort,
    inspectorPort: simInsp,
    persistTo: join(dir, `sim-${backend}`),
    vars: {
      SIM_API_KEY: SIM_KEY,
      SIM_ALLOW_LOCAL_CALLBACKS: "true",
      SIM_FILES_MAX_BYTES: String(Math.max(SIZE, 100 * 1024 * 1024)),
    },
    logFile: join(dir, `sim-${backend}.log`),
  });
  const drain = backend === "drain";
  const gateway = startWorker({
    name: drain ? "drain" : "gateway",
    config: drain ? join(root, "bench", "drain.wrangler.jsonc") : join(root, "wrangler.jsonc"),
    script: drain ? built.drain : built.gateway,
    port: gwPort,
    inspectorPort: gwInsp,
    persistTo: join(dir, `gateway-${backend}`),
    vars: {
      UPSTREAM_BASE_URL: `http://127.0.0.1:${simPort}`,
      FILES_BASE_URL: `http://127.0.0.1:${simPort}`,
      UPSTREAM_API_KEY: SIM_KEY,
      PUBLIC_BASE_URL: `http://127.0.0.1:${gwPort}`,
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
  try {
    await waitReady(sim, "/__sim/tasks");
    await waitReady(gateway, drain ? "/" : "/healthz");
    const token = drain ? "none" : await benchToken(gateway);
    const uploadUrl = `${gateway.url}${drain ? "/" : "/api/v1/files/upload/stream"}`;
    // A small upload first, so the isolate and the tenant object are warm before the measured one.
    const warm = await upload(uploadUrl, token, 1024 * 1024);
    if (warm.status !== 200)
      throw new Error(`warm-up upload answered ${warm.status}: ${warm.text.slice(0, 300)}`);
    const pids = workerdPids(gateway.pid);
    if (pids.length === 0) throw new Error("no workerd process found under the gateway");
    const baseline = Math.max(...pids.map((p) => memKb(p, "VmRSS")));
    let peak = baseline;
    const sampler = setInterval(() => {
      for (const p of pids) peak = Math.max(peak, memKb(p, "VmRSS"));
    }, 20);
    const profiler = flags.profile ? await connectProfiler(gwInsp) : null;
    await profiler?.start();
    const started = process.hrtime.bigint();
    const res = await upload(uploadUrl, token, SIZE);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (profiler) {
      await profiler.stop();
      const show = (rows) => rows.map((r) => `  ${(r.share * 100).toFixed(1)}% ${r.fn}`).join("\n");
      console.log(`[bench:upload] ${backend} self time:\n${show(profiler.top(20))}`);
      console.log(`[bench:upload] ${backend} total time:\n${show(profiler.topTotal(30))}`);
      profiler.close();
    }
    clearInterval(sampler);
    for (const p of pids) peak = Math.max(peak, memKb(p, "VmRSS"));
    const hwm = Math.max(...pids.map((p) => memKb(p, "VmHWM")));
    if (res.status !== 200) throw new Error(`upload answered ${res.status}: ${res.text.slice(0, 300)}`);
    const data = JSON.parse(res.text).data;
    // The drain Worker counts the whole form, its part headers and delimiters included.
    if (drain ? data.file_size < SIZE : data.file_size !== SIZE)
      throw new Error(`stored ${data.file_size} bytes, sent ${SIZE}`);
    return {
      backend,
      bytes: SIZE,
      seconds: Number(seconds.toFixed(2)),
      mb_per_s: Number((SIZE / 1024 / 1024 / seconds).toFixed(1)),
      workerd_rss_before_mb: Number((baseline / 1024).toFixed(1)),
      workerd_rss_peak_sampled_mb: Number((peak / 1024).toFixed(1)),
      workerd_rss_growth_mb: Number(((peak - baseline) / 1024).toFixed(1)),
      workerd_vm_hwm_mb: Number((hwm / 1024).toFixed(1)),
    };
  } finally {
    gateway.stop();
    sim.stop();
    await Promise.race([Promise.all([gateway.exited, sim.exited]), new Promise((r) => setTimeout(r, 5000))]);
    gateway.stop("SIGKILL");
    sim.stop("SIGKILL");
  }
}

const dir = mkdtempSync(join(tmpdir(), "reelgate-upload-bench-"));
try {
  console.log(`[bench:upload] building the gateway and the simulator…`);
  const built = {
    gateway: buildWorker(join(root, "wrangler.jsonc"), join(dir, "gateway-build"), { names: flags.profile }),
    sim: buildWorker(join(root, "sim", "wrangler.jsonc"), join(dir, "sim-build")),
    drain: buildWorker(join(root, "bench", "drain.wrangler.jsonc"), join(dir, "drain-build")),
  };
  const results = [];
  for (const backend of flags.backends.split(",")) {
    console.log(`[bench:upload] ${backend}: streaming ${flags.mb} MB…`);
    const r = await runBackend(backend, built, dir);
    console.log(`[bench:upload] ${JSON.stringify(r)}`);
    results.push(r);
  }
  const report = { at: new Date().toISOString(), node: process.version, file_mb: Number(flags.mb), results };
  if (flags.profile) flags.out = join(root, ".wrangler", "bench", "upload-profile.json");
  mkdirSync(dirname(flags.out), { recursive: true });
  writeFileSync(flags.out, JSON.stringify(report, null, 2) + "\n");
  console.log(`[bench:upload] wrote ${flags.out}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
