#!/usr/bin/env node
// `npm run bench`: the upstream simulator, a bare passthrough Worker and the gateway, each on its own
// `wrangler dev` (workerd, loopback), driven one after another by autocannon in one run, so the figures share
// a machine state. Writes bench/results/latest.{json,md} (plus a dated JSON copy). `npm run bench:smoke` is
// the same harness for about a second per target, writing to .wrangler/bench/ instead: CI runs it so the
// harness cannot rot. Every run stops by itself; Ctrl-C stops the Workers too.
import { execFileSync } from "node:child_process";
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { runLoad } from "../bench/lib/load.mjs";
import { buildWorker, startWorker, treeCpuMs, waitReady } from "../bench/lib/processes.mjs";
import { compare, markdown } from "../bench/lib/report.mjs";
import { benchTenant } from "../bench/lib/tenants.mjs";

// No telemetry and no request.cf download: the run must work offline, the same everywhere.
process.env.WRANGLER_SEND_METRICS ??= "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const { values: flags } = parseArgs({
  options: {
    smoke: { type: "boolean", default: false },
    duration: { type: "string" },
    serial: { type: "string" },
    warmup: { type: "string" },
    connections: { type: "string", default: "10" },
    only: { type: "string" },
    var: { type: "string", multiple: true, default: [] },
  },
});
const settings = {
  connections: Number(flags.connections),
  load_s: Number(flags.duration ?? (flags.smoke ? 1 : 20)),
  serial_s: Number(flags.serial ?? (flags.smoke ? 1 : 10)),
  warmup_s: Number(flags.warmup ?? (flags.smoke ? 0.5 : 2)),
  // Tasks stay pending for the whole run, so the simulator sends no callbacks and GETs poll a live task.
  sim_complete_after_ms: 3_600_000,
  gateway_log_level: "warn",
};

const PORTS = { sim: 8797, passthrough: 8798, gateway: 8799 };
const SIM_KEY = "sim-bench-key-0123456789";
const ADMIN_TOKEN = "bench-admin-token-0123456789";
const CREATE = "/v1/videos/generations";
const BODY = JSON.stringify({
  model: "wan2.6-reference-video-flash",
  prompt: "A person dancing in the rain, slow camera pan",
  video_urls: ["https://cdn.bench.reelgate.test/ref.mp4"],
});
const JSON_POST = { method: "POST", body: BODY };

const work = mkdtempSync(join(tmpdir(), "reelgate-bench-"));
const workers = [];
let stopping = false;

function stopAll() {
  if (stopping) return;
  stopping = true;
  for (const w of workers) w.stop();
}
process.on("SIGINT", () => {
  stopAll();
  process.exit(130);
});
process.on("SIGTERM", () => {
  stopAll();
  process.exit(143);
});

function start(name, config, vars) {
  const script = buildWorker(config, join(work, `build-${name}`));
  const i = Object.keys(PORTS).indexOf(name);
  const w = startWorker({
    name,
    config,
    script,
    port: PORTS[name],
    inspectorPort: 9297 + i,
    persistTo: join(work, `state-${name}`),
    vars,
    logFile: join(work, `${name}.log`),
  });
  workers.push(w);
  w.exited.then((code) => {
    if (!stopping) console.error(`[bench] ${name} exited early (${code}); its log: ${w.logFile}`);
  });
  return w;
}

function extraVars() {
  return Object.fromEntries(
    flags.var.map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
  );
}

async function post(url, headers, body) {
  const r = await fetch(url, { method: "POST", headers, body });
  const text = await r.text();
  if (!r.ok) throw new Error(`POST ${url} → ${r.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : {};
}

async function main() {
  console.log(`[bench] ${flags.smoke ? "smoke run" : "full run"}; workdir ${work}`);
  const sim = start("sim", "sim/wrangler.jsonc", {
    SIM_API_KEY: SIM_KEY,
    SIM_ALLOW_LOCAL_CALLBACKS: "true",
    SIM_COMPLETE_AFTER_MS: String(settings.sim_complete_after_ms),
    SIM_PROCESSING_AFTER_MS: String(settings.sim_complete_after_ms),
  });
  const passthrough = start("passthrough", "bench/passthrough.wrangler.jsonc", {
    UPSTREAM_BASE_URL: sim.url,
    UPSTREAM_API_KEY: SIM_KEY,
  });
  const gateway = start("gateway", "wrangler.jsonc", {
    UPSTREAM_BASE_URL: sim.url,
    UPSTREAM_API_KEY: SIM_KEY,
    PUBLIC_BASE_URL: `http://127.0.0.1:${PORTS.gateway}`,
    ADMIN_TOKEN,
    SIGNING_SECRET: "bench-signing-secret-0123456789abcdef0123",
    DEV_ALLOW_LOCAL_URLS: "false",
    LOG_LEVEL: settings.gateway_log_level,
    ...extraVars(),
  });
  await Promise.all([
    waitReady(sim, "/__sim/tasks"),
    waitReady(passthrough, "/"),
    waitReady(gateway, "/healthz"),
  ]);

  const es = await benchTenant(gateway.url, ADMIN_TOKEN, "ES256");
  const rs = await benchTenant(gateway.url, ADMIN_TOKEN, "RS256");
  const json = (token) => ({ "content-type": "application/json", authorization: `Bearer ${token}` });
  const resetSim = () => post(`${sim.url}/__sim/reset`, {}, "");

  const targets = [
    { id: "sim", label: "1. simulator directly", w: sim, path: CREATE, ...JSON_POST, headers: json(SIM_KEY) },
    {
      id: "passthrough",
      label: "2. passthrough Worker",
      w: passthrough,
      path: CREATE,
      ...JSON_POST,
      headers: json("x"),
    },
    {
      id: "gateway-es256",
      label: "3. gateway, ES256",
      w: gateway,
      path: CREATE,
      ...JSON_POST,
      headers: json(es.token),
    },
    {
      id: "gateway-rs256",
      label: "3. gateway, RS256",
      w: gateway,
      path: CREATE,
      ...JSON_POST,
      headers: json(rs.token),
    },
    { id: "passthrough-get", label: "passthrough GET task", w: passthrough, get: "upstream", headers: {} },
    { id: "gateway-get", label: "4. gateway GET task", w: gateway, get: "gateway", headers: json(es.token) },
  ].filter((t) => !flags.only || flags.only.split(",").includes(t.id));

  let taskIds = null;
  const results = [];
  for (const t of targets) {
    if (t.get) {
      // Both GET targets read one live task each, created through the Worker they measure.
      taskIds ??= await createTasks(resetSim, gateway, passthrough, json(es.token));
      t.path = `/v1/tasks/${taskIds[t.get]}`;
      t.method = "GET";
    } else {
      await resetSim();
    }
    results.push(await measure(t));
  }

  const run = {
    kind: flags.smoke ? "smoke" : "full",
    command: flags.smoke ? "npm run bench:smoke" : "npm run bench",
    finished_at: new Date().toISOString(),
    git: gitInfo(),
    machine: machineInfo(),
    settings,
    targets: results,
    comparisons: compare(results),
  };
  return run;
}

async function createTasks(resetSim, gateway, passthrough, headers) {
  await resetSim();
  const viaGateway = await post(`${gateway.url}${CREATE}`, headers, BODY);
  const viaPassthrough = await post(
    `${passthrough.url}${CREATE}`,
    { "content-type": "application/json" },
    BODY,
  );
  return { gateway: viaGateway.id, upstream: viaPassthrough.id };
}

async function measure(t) {
  const request = { url: t.w.url + t.path, method: t.method, headers: t.headers, body: t.body };
  const cpu = () => treeCpuMs(t.w.pid);
  process.stdout.write(`[bench] ${t.label}: `);
  if (settings.warmup_s > 0)
    await runLoad({ ...request, connections: settings.connections, durationS: settings.warmup_s });
  const load = await runLoad(
    { ...request, connections: settings.connections, durationS: settings.load_s },
    { cpu },
  );
  const serial =
    settings.serial_s > 0
      ? await runLoad({ ...request, connections: 1, durationS: settings.serial_s })
      : null;
  console.log(
    `${load.rps} req/s, p50 ${load.latency_ms.p50} ms, p99 ${load.latency_ms.p99} ms, errors ${load.errors}` +
      (serial ? `; serial p50 ${serial.latency_ms.p50} ms` : ""),
  );
  return {
    id: t.id,
    label: t.label,
    request: `${request.method} ${t.path.replace(/task-unified-\S+/, "{id}")}`,
    load,
    serial,
  };
}

function gitInfo() {
  const git = (...a) => execFileSync("git", a, { cwd: root, encoding: "utf8" }).trim();
  try {
    return {
      commit: git("rev-parse", "--short", "HEAD"),
      src_dirty: git("status", "--porcelain", "--", "src", "sim") !== "",
    };
  } catch {
    return { commit: "unknown", src_dirty: null };
  }
}

function machineInfo() {
  const version = (cmd) => {
    try {
      return execFileSync(cmd, ["--version"], { encoding: "utf8" }).trim().split(/\s+/).pop();
    } catch {
      return "unknown";
    }
  };
  return {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model.trim() ?? "unknown",
    memory_gib: Math.round(totalmem() / 2 ** 30),
    node: process.versions.node,
    wrangler: version("wrangler"),
  };
}

function write(run) {
  const dir = flags.smoke ? join(root, ".wrangler", "bench") : join(root, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const base = flags.smoke ? "smoke" : "latest";
  writeFileSync(join(dir, `${base}.json`), JSON.stringify(run, null, 2) + "\n");
  writeFileSync(join(dir, `${base}.md`), markdown(run));
  if (!flags.smoke && !flags.only)
    copyFileSync(join(dir, "latest.json"), join(dir, `${run.finished_at.replace(/[:.]/g, "-")}.json`));
  console.log(`\n${markdown(run)}\n[bench] wrote ${join(dir, base)}.{json,md}`);
}

let exitCode = 0;
try {
  const run = await main();
  write(run);
  // No thresholds, but a harness whose requests fail is broken: the smoke run says so.
  const failing = run.targets.filter(
    (t) => t.load.ok === 0 || t.load.errors > 0 || (t.serial?.errors ?? 0) > 0,
  );
  if (failing.length) {
    for (const t of failing) console.error(`[bench] ${t.id}: errors ${JSON.stringify(t.load.statuses)}`);
    exitCode = 1;
  }
} catch (err) {
  console.error(`[bench] ${err.stack ?? err}`);
  exitCode = 1;
} finally {
  stopAll();
  await Promise.race([Promise.all(workers.map((w) => w.exited)), new Promise((r) => setTimeout(r, 5_000))]);
  if (exitCode === 0) rmSync(work, { recursive: true, force: true });
  else console.error(`[bench] the Workers' logs are kept in ${work}`);
}
process.exit(exitCode);
