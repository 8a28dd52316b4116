#!/usr/bin/env node
// `npm run bench`: the upstream simulator, a bare passthrough Worker and the gateway, each on its own
// `wrangler dev` (workerd, loopback), driven one after another by autocannon in one run, so the figures share
// a machine state. Writes bench/results/latest.{json,md} (plus a dated JSON copy). `npm run bench:smoke` is
// the same harness for about a second per target, writing to .wrangler/bench/ instead: CI runs it so the
// harness cannot rot. Every run stops by itself; Ctrl-C stops the Workers too.
import { execFileSync, execSync } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { setTimeout as sleep } from "node:timers/promises";
import { parseArgs } from "node:util";
import { experimental_readRawConfig } from "wrangler";
import { callbackFor, waitEnded } from "../bench/lib/callbacks.mjs";
import { measureAll } from "../bench/lib/measure.mjs";
import {
  PORTKEY_TAG,
  buildPortkeyWorker,
  checkReachesSim,
  portkeyHeaders,
  preparePortkeyNode,
  preparePortkeySource,
  startPortkeyNode,
} from "../bench/lib/portkey.mjs";
import { assertPortsFree, buildWorker, freePorts, startWorker, waitReady } from "../bench/lib/processes.mjs";
import { compare, markdown } from "../bench/lib/report.mjs";
import {
  BENCH_ADMIN_TOKEN as ADMIN_TOKEN,
  BENCH_SIGNING_SECRET,
  BENCH_SIM_KEY as SIM_KEY,
  benchTenant,
} from "../bench/lib/tenants.mjs";

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
    rounds: { type: "string" },
    only: { type: "string" },
    var: { type: "string", multiple: true, default: [] },
    "no-limits": { type: "boolean", default: false },
    profile: { type: "string" },
    // Optional comparison with the Portkey AI Gateway 1.15.2 (bench/lib/portkey.mjs). --portkey-git: a git
    // dir of Portkey-AI/gateway, whose tag is extracted (once) into .wrangler/portkey-src and served on
    // workerd; --portkey-src: such a source tree, dependencies installed. --portkey-node: also Portkey on
    // Node, installed (once) into .wrangler/portkey-node from bench/portkey-node/. --out: where to write the
    // run's JSON and markdown (path without extension).
    "portkey-git": { type: "string" },
    "portkey-src": { type: "string" },
    "portkey-node": { type: "boolean", default: false },
    out: { type: "string" },
    // An A/B in one run: the gateway as of git ref <ref> (extracted into the run's workdir, built and served
    // like the gateway, its own tenants) as targets baseline-es256 and baseline-get, each read against the
    // passthrough and, as the floor of the working tree's targets, against the gateway.
    baseline: { type: "string" },
  },
});
const settings = {
  connections: Number(flags.connections),
  load_s: Number(flags.duration ?? (flags.smoke ? 1 : 20)),
  serial_s: Number(flags.serial ?? (flags.smoke ? 1 : 10)),
  warmup_s: Number(flags.warmup ?? (flags.smoke ? 0.5 : 2)),
  // Each target's time is cut into slices taken in turn (target 1, 2, … then again), so a change in the
  // machine's load during the run falls on every target alike instead of on whichever ran at that moment.
  rounds: Number(flags.rounds ?? (flags.smoke ? 1 : 5)),
  // Tasks stay pending for the whole run, so the simulator sends no callbacks and GETs poll a live task.
  sim_complete_after_ms: 3_600_000,
  // Except while the ended task of the callback target is made, before anything is measured: then the
  // simulator (restarted afterwards) finishes tasks at once.
  sim_setup_complete_after_ms: 0,
  gateway_log_level: "warn",
  // Bench tenants have quotas far above the run (every check runs, nothing is refused), or none at all.
  tenant_quotas: flags["no-limits"] ? "none" : "unreachable",
};

/**
 * The gateway's config for the run: wrangler.jsonc with its read limits (`ratelimits`) raised past anything a
 * run sends, as the tenants' quotas are, so every limit check runs and nothing is refused. Written beside
 * wrangler.jsonc, whose relative paths it keeps, and removed when the run stops.
 */
const GATEWAY_CONFIG = join(root, "wrangler.bench.json");
function writeGatewayConfig(tree = root) {
  const { rawConfig } = experimental_readRawConfig({ config: join(tree, "wrangler.jsonc") });
  for (const limiter of rawConfig.ratelimits ?? []) limiter.simple.limit = 1_000_000_000;
  const config = tree === root ? GATEWAY_CONFIG : join(tree, "wrangler.bench.json");
  writeFileSync(config, JSON.stringify(rawConfig, null, 2));
  return config;
}

/** The gateway's source as of `ref`, extracted into the run's workdir (this checkout's node_modules linked). */
function baselineTree(ref) {
  const dir = join(work, "baseline-src");
  mkdirSync(dir, { recursive: true });
  const sha = execFileSync("git", ["rev-parse", "--short", `${ref}^{commit}`], {
    cwd: root,
    encoding: "utf8",
  }).trim();
  execSync(`git archive ${sha} | tar -x -C ${JSON.stringify(dir)}`, {
    cwd: root,
    stdio: ["ignore", "ignore", "inherit"],
  });
  symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  // Its static assets (the console's, the portal's), which wrangler wants in place before it builds.
  execFileSync(process.execPath, ["scripts/build-assets.mjs"], {
    cwd: dir,
    stdio: ["ignore", "ignore", "inherit"],
  });
  return { dir, sha };
}

// Free ports on 127.0.0.1, picked when the run starts; the restarted simulator takes its own again.
const PORTS = {};
const INSPECTOR_PORTS = {};
const CREATE = "/v1/videos/generations";
const JSON_TYPE = { "content-type": "application/json" };
// Every target's client asks for an uncompressed answer. Portkey forwards the client's headers upstream;
// with no Accept-Encoding from the client its upstream request still asks for compression (undici adds gzip
// on Node; wrangler dev's entry adds "br, gzip" in front of workerd), which the passthrough and the gateway
// never ask for. With identity every target gets the same plain answer from the simulator.
const CLIENT = { "accept-encoding": "identity" };
const BODY = JSON.stringify({
  model: "wan2.6-reference-video-flash",
  prompt: "A person dancing in the rain, slow camera pan",
  video_urls: ["https://cdn.bench.reelgate.test/ref.mp4"],
});

const work = mkdtempSync(join(tmpdir(), "reelgate-bench-"));
const workers = [];
let stopping = false;

function stopAll() {
  if (stopping) return;
  stopping = true;
  for (const w of workers) w.stop();
  rmSync(GATEWAY_CONFIG, { force: true });
}
process.on("SIGINT", () => {
  stopAll();
  process.exit(130);
});
process.on("SIGTERM", () => {
  stopAll();
  process.exit(143);
});

const builds = new Map();

/**
 * Starts Worker `name` (built once per run, or `script` given pre-built); `phase` names its state and log
 * when it is started again.
 */
function start(name, config, vars, phase = "", script = undefined) {
  // A profiled run builds the gateway unminified, so its profile names the functions.
  const names = Boolean(flags.profile) && name === "gateway";
  if (!script && !builds.has(name))
    builds.set(name, buildWorker(config, join(work, `build-${name}`), { names }));
  const w = startWorker({
    name,
    config,
    script: script ?? builds.get(name),
    port: PORTS[name],
    inspectorPort: INSPECTOR_PORTS[name],
    persistTo: join(work, `state-${name}${phase}`),
    vars,
    logFile: join(work, `${name}${phase}.log`),
  });
  workers.push(w);
  w.exited.then((code) => {
    if (!stopping && !w.retired)
      console.error(`[bench] ${name} exited early (${code}); its log: ${w.logFile}`);
  });
  return w;
}

/** Stops `w` for good (it is no longer one of the run's Workers) and waits until its ports are free. */
async function retire(w, ports) {
  w.retired = true;
  w.stop();
  if ((await Promise.race([w.exited, sleep(5_000).then(() => "late")])) === "late") w.stop("SIGKILL");
  await w.exited;
  workers.splice(workers.indexOf(w), 1);
  for (let i = 0; ; i++) {
    try {
      return await assertPortsFree(ports);
    } catch (err) {
      if (i >= 25) throw err;
      await sleep(200);
    }
  }
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

const wanted = (id) => !flags.only || flags.only.split(",").includes(id);

function simVars(completeAfterMs) {
  return {
    SIM_API_KEY: SIM_KEY,
    SIM_ALLOW_LOCAL_CALLBACKS: "true",
    SIM_COMPLETE_AFTER_MS: String(completeAfterMs),
    SIM_PROCESSING_AFTER_MS: String(completeAfterMs),
    // Result links on the port this run gave the simulator (the default is npm start's :8788).
    SIM_MEDIA_BASE_URL: `http://127.0.0.1:${PORTS.sim}`,
  };
}

async function main() {
  console.log(`[bench] ${flags.smoke ? "smoke run" : "full run"}; workdir ${work}`);
  // Free random ports on 127.0.0.1: a Worker left over from an earlier run (or anything else) cannot answer
  // in place of the ones this run starts.
  const portkeySrc = flags["portkey-git"]
    ? preparePortkeySource(flags["portkey-git"], PORTKEY_TAG, join(root, ".wrangler", "portkey-src"))
    : flags["portkey-src"] && resolve(flags["portkey-src"]);
  const portkeyDir = flags["portkey-node"]
    ? preparePortkeyNode(join(root, "bench", "portkey-node"), join(root, ".wrangler", "portkey-node"))
    : null;
  const names = ["sim", "passthrough", "gateway"];
  if (portkeySrc) names.push("portkey-workerd");
  if (portkeyDir) names.push("portkey-node");
  const baselineSrc = flags.baseline ? baselineTree(flags.baseline) : null;
  if (baselineSrc) names.push("baseline");
  const ports = await freePorts(names.length * 2);
  for (const [i, name] of names.entries()) {
    PORTS[name] = ports[i];
    INSPECTOR_PORTS[name] = ports[names.length + i];
  }
  const needsEndedTask = wanted("gateway-callback-ended");
  let sim = start(
    "sim",
    "sim/wrangler.jsonc",
    simVars(needsEndedTask ? settings.sim_setup_complete_after_ms : settings.sim_complete_after_ms),
    needsEndedTask ? "-setup" : "",
  );
  const passthrough = start("passthrough", "bench/passthrough.wrangler.jsonc", {
    UPSTREAM_BASE_URL: sim.url,
    UPSTREAM_API_KEY: SIM_KEY,
  });
  const gatewayVars = (name) => ({
    UPSTREAM_BASE_URL: sim.url,
    UPSTREAM_API_KEY: SIM_KEY,
    PUBLIC_BASE_URL: `http://127.0.0.1:${PORTS[name]}`,
    ADMIN_TOKEN,
    SIGNING_SECRET: BENCH_SIGNING_SECRET,
    DEV_ALLOW_LOCAL_URLS: "false",
    LOG_LEVEL: settings.gateway_log_level,
    // Every GET is measured on the edge path to the upstream, not served from the poll cache.
    TASK_POLL_CACHE_MS: "0",
    ...extraVars(),
  });
  const gateway = start("gateway", writeGatewayConfig(), gatewayVars("gateway"));
  const baseline = baselineSrc
    ? start("baseline", writeGatewayConfig(baselineSrc.dir), gatewayVars("baseline"))
    : null;
  // Portkey allows a custom host on loopback by default; the list is given so the run does not rely on it.
  const portkeyEnv = { TRUSTED_CUSTOM_HOSTS: "127.0.0.1" };
  let portkeyWorkerd = null;
  if (portkeySrc) {
    const built = buildPortkeyWorker(portkeySrc, join(work, "build-portkey-workerd"));
    portkeyWorkerd = start("portkey-workerd", built.config, portkeyEnv, "", built.script);
  }
  let portkeyNode = null;
  if (portkeyDir) {
    portkeyNode = startPortkeyNode({
      name: "portkey-node",
      dir: portkeyDir,
      node: process.execPath,
      port: PORTS["portkey-node"],
      env: portkeyEnv,
      logFile: join(work, "portkey-node.log"),
      preload: join(root, "bench", "lib", "loopback.mjs"),
    });
    workers.push(portkeyNode);
  }
  await Promise.all([
    waitReady(sim, "/__sim/tasks"),
    waitReady(passthrough, "/"),
    waitReady(gateway, "/healthz"),
    ...(baseline ? [waitReady(baseline, "/healthz")] : []),
    ...[portkeyWorkerd, portkeyNode].filter(Boolean).map((w) => waitReady(w, "/")),
  ]);

  const limits = { limits: !flags["no-limits"] };
  const es = await benchTenant(gateway.url, ADMIN_TOKEN, "ES256", limits);
  const rs = await benchTenant(gateway.url, ADMIN_TOKEN, "RS256", limits);
  const esBase = baseline ? await benchTenant(baseline.url, ADMIN_TOKEN, "ES256", limits) : null;
  const bearer = (token) => ({ authorization: `Bearer ${token}` });
  const gatewayCreate = { path: CREATE, headers: { ...JSON_TYPE, ...bearer(es.token) }, body: BODY };
  const callbackDeps = { gatewayUrl: gateway.url, simUrl: sim.url, simKey: SIM_KEY, create: gatewayCreate };
  let ended = null;
  if (needsEndedTask) {
    // One ended task serves every slice: a report of it changes nothing, so it can be repeated at will.
    ended = await callbackFor(callbackDeps);
    await waitEnded(gateway.url, bearer(es.token), ended.gatewayId);
    await retire(sim, [PORTS.sim, INSPECTOR_PORTS.sim]);
    sim = start("sim", "sim/wrangler.jsonc", simVars(settings.sim_complete_after_ms));
    await waitReady(sim, "/__sim/tasks");
  }
  const resetSim = () => post(`${sim.url}/__sim/reset`, {}, "");
  // `prepare` runs before each slice of a target and gives the path to request. The simulator scans all its
  // tasks on every request, so a slice that creates tasks starts from none; a GET slice first creates the
  // one live task it reads, through the Worker it measures.
  const create = (id, label, w, headers) => ({
    id,
    label,
    w,
    method: "POST",
    body: BODY,
    headers: { ...CLIENT, ...JSON_TYPE, ...headers },
    async prepare() {
      await resetSim();
      return CREATE;
    },
  });
  const query = (id, label, w, headers) => ({
    id,
    label,
    w,
    method: "GET",
    headers: { ...CLIENT, ...headers },
    async prepare() {
      const task = await post(w.url + CREATE, { ...CLIENT, ...JSON_TYPE, ...headers }, BODY);
      return `/v1/tasks/${task.id}`;
    },
  });
  // A callback from the upstream, as the simulator would send it: the ended task's (no upstream query), or
  // that of a task created for the slice and still pending (the gateway confirms it upstream each time).
  const callback = (id, label, prepare) => ({
    id,
    label,
    w: gateway,
    method: "POST",
    headers: { ...CLIENT, ...JSON_TYPE },
    async prepare() {
      const c = await prepare();
      this.body = c.body;
      return c.path;
    },
  });
  const targets = [
    create("sim", "1. simulator directly", sim, bearer(SIM_KEY)),
    create("passthrough", "2. passthrough Worker", passthrough, {}),
    create("gateway-es256", "3. gateway, ES256", gateway, bearer(es.token)),
    create("gateway-rs256", "3. gateway, RS256", gateway, bearer(rs.token)),
    query("passthrough-get", "passthrough GET task", passthrough, {}),
    query("gateway-get", "4. gateway GET task (poll cache off)", gateway, bearer(es.token)),
    callback("gateway-callback-ended", "5. callback, task ended", async () => ended),
    callback("gateway-callback-running", "5. callback, task running", () => callbackFor(callbackDeps)),
  ];
  if (baseline)
    targets.push(
      create("baseline-es256", `B. gateway at ${baselineSrc.sha}, ES256`, baseline, bearer(esBase.token)),
      query("baseline-get", `B. gateway at ${baselineSrc.sha}, GET task`, baseline, bearer(esBase.token)),
    );
  const pk = portkeyHeaders(sim.url, SIM_KEY);
  if (portkeyWorkerd)
    targets.push(
      create("portkey-workerd", "P. Portkey (workerd) POST", portkeyWorkerd, pk),
      query("portkey-workerd-get", "P. Portkey (workerd) GET task", portkeyWorkerd, pk),
    );
  if (portkeyNode)
    targets.push(
      create("portkey-node", "P. Portkey (Node) POST", portkeyNode, pk),
      query("portkey-node-get", "P. Portkey (Node) GET task", portkeyNode, pk),
    );
  // Before anything is measured, each Portkey must really reach the simulator (with the key) and answer 200.
  const checks = [];
  for (const w of [portkeyWorkerd, portkeyNode].filter(Boolean)) {
    const headers = { ...CLIENT, ...pk };
    checks.push(await checkReachesSim({ w, simUrl: sim.url, headers, body: BODY, createPath: CREATE }));
    console.log(`[bench] ${w.name} reaches the simulator: ${JSON.stringify(checks.at(-1))}`);
  }
  const chosen = targets.filter((t) => wanted(t.id));
  const { results, profile } = await measureAll(chosen, settings, flags.profile);

  const run = {
    kind: flags.smoke ? "smoke" : "full",
    command: flags.smoke
      ? "npm run bench:smoke"
      : `npm run bench${process.argv.length > 2 ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`,
    finished_at: new Date().toISOString(),
    git: gitInfo(),
    machine: machineInfo(),
    settings,
    targets: results,
    comparisons: compare(results),
    ...(profile ? { profile } : {}),
    ...(checks.length ? { portkey_checks: checks, portkey: portkeyInfo(portkeySrc, portkeyDir) } : {}),
  };
  return run;
}

/** Versions of what Portkey runs on, for the run's record. */
function portkeyInfo(src, dir) {
  const version = (base, pkg) => {
    const f = join(base, "node_modules", pkg, "package.json");
    return existsSync(f) ? JSON.parse(readFileSync(f, "utf8")).version : null;
  };
  const info = {};
  if (src)
    info.workerd_build = {
      gateway: JSON.parse(readFileSync(join(src, "package.json"), "utf8")).version,
      hono: version(src, "hono"),
      workerd: version(root, "workerd"),
    };
  if (dir)
    info.node_install = {
      gateway: version(dir, "@portkey-ai/gateway"),
      "@hono/node-server": version(dir, "@hono/node-server"),
      hono: version(dir, "hono"),
      node: process.versions.node,
    };
  return info;
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
  // Only a full run of every target with the default set-up replaces the figures the README shows.
  // Only a run without Portkey replaces them (its targets would change the table's rows).
  const portkey = Boolean(flags["portkey-git"] || flags["portkey-src"] || flags["portkey-node"]);
  const official =
    !flags.smoke &&
    !flags.only &&
    !flags.profile &&
    !flags["no-limits"] &&
    flags.var.length === 0 &&
    !portkey &&
    !flags.baseline &&
    !flags.out;
  let dir = official ? join(root, "bench", "results") : join(root, ".wrangler", "bench");
  let base = official ? "latest" : flags.smoke ? "smoke" : "variant";
  if (flags.out) {
    dir = dirname(resolve(flags.out));
    base = resolve(flags.out).slice(dir.length + 1);
  }
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, `${base}.json`), JSON.stringify(run, null, 2) + "\n");
  writeFileSync(join(dir, `${base}.md`), markdown(run));
  if (official)
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
  const done = Promise.all(workers.map((w) => w.exited));
  if ((await Promise.race([done, sleep(5_000)])) === undefined) {
    // Still running after 5 s: the Workers' process groups are killed outright.
    for (const w of workers) w.stop("SIGKILL");
    await Promise.race([done, sleep(2_000)]);
  }
  if (exitCode === 0) rmSync(work, { recursive: true, force: true });
  else console.error(`[bench] the Workers' logs are kept in ${work}`);
}
process.exit(exitCode);
