// The Workers the benchmark drives, each under its own `wrangler dev`: built once up front (as `wrangler
// deploy` would bundle them) and served with --no-bundle and without wrangler.jsonc's build command, so
// edits to src/ during a run cannot reload a Worker mid-measurement. Every process runs in its own group, so stopping it stops its workerd children.
import { spawn, spawnSync } from "node:child_process";
import { createWriteStream, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { experimental_readRawConfig } from "wrangler";

/**
 * Bundles a Worker with `wrangler deploy --dry-run` into `outdir`; returns the emitted entry module.
 * `names`: not minified whatever the config says, so a CPU profile names the functions.
 */
export function buildWorker(config, outdir, { names = false } = {}) {
  const args = ["deploy", "--dry-run", "-c", config, "--outdir", outdir, ...(names ? ["--no-minify"] : [])];
  const r = spawnSync("wrangler", args, {
    encoding: "utf8",
    env: process.env,
  });
  if (r.status !== 0) throw new Error(`building ${config} failed:\n${r.stdout}\n${r.stderr}`);
  const entry = readdirSync(outdir).find((f) => f.endsWith(".js"));
  if (!entry) throw new Error(`building ${config} emitted no .js file in ${outdir}`);
  return join(outdir, entry);
}

/**
 * The config `wrangler dev` serves the pre-built `script` with: `config` without its build command, written
 * beside the script (paths made absolute). With a build command `wrangler dev` watches build.watch_dir (src/
 * among them) and reloads the Worker on any edit there; buildWorker already ran it.
 */
function devConfig(config, script) {
  const { rawConfig } = experimental_readRawConfig({ config });
  if (!rawConfig.build) return config;
  const base = dirname(resolve(config));
  const { build: _build, $schema: _schema, ...rest } = rawConfig;
  const out = { ...rest, main: resolve(base, rest.main) };
  if (rest.assets?.directory)
    out.assets = { ...rest.assets, directory: resolve(base, rest.assets.directory) };
  const file = join(dirname(script), "wrangler.dev.json");
  writeFileSync(file, JSON.stringify(out, null, 2));
  return file;
}

/**
 * Starts `wrangler dev` for a pre-built Worker on 127.0.0.1:`port`. Its output goes to `logFile` only
 * (wrangler's per-request lines are silenced with --log-level warn, which also hides the Worker's own
 * console.log lines: `logLevel: "log"` shows them). Returns a handle with `stop()`.
 */
export function startWorker({
  name,
  config,
  script,
  port,
  inspectorPort,
  persistTo,
  vars,
  logFile,
  logLevel = "warn",
}) {
  const args = [
    "dev",
    script,
    "-c",
    devConfig(config, script),
    "--no-bundle",
    "--ip",
    "127.0.0.1",
    "--port",
    String(port),
  ];
  // An explicit inspector port per process: two `wrangler dev` starting together otherwise race for 9229.
  args.push("--inspector-port", String(inspectorPort), "--persist-to", persistTo);
  args.push("--log-level", logLevel, "--show-interactive-dev-session=false");
  for (const [k, v] of Object.entries(vars)) args.push("--var", `${k}:${v}`);
  const log = createWriteStream(logFile);
  const child = spawn("wrangler", args, {
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
    env: process.env,
  });
  child.stdout.pipe(log);
  child.stderr.pipe(log);
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    inspectorPort,
    pid: child.pid,
    logFile,
    exited,
    stop: (signal = "SIGTERM") => stopGroup(child.pid, signal),
  };
}

function stopGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
  } catch {
    // already gone
  }
}

/**
 * `n` distinct ports free on 127.0.0.1 now (the system picks them; all are held until every one is known,
 * so none is handed out twice). Between this and their use another process could take one: rare enough.
 */
export async function freePorts(n) {
  const servers = await Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((s) => s.address().port);
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  return ports;
}

/** Rejects naming the first of `ports` that something on 127.0.0.1 already listens on. */
export async function assertPortsFree(ports) {
  for (const port of ports) {
    await new Promise((resolve, reject) => {
      const server = createServer();
      server.once("error", () =>
        reject(new Error(`port ${port} is in use: stop whatever listens there first`)),
      );
      server.listen(port, "127.0.0.1", () => server.close(resolve));
    });
  }
}

/** Resolves once `url` answers below 500; rejects when the Worker exits or `timeoutMs` passes. */
export async function waitReady(worker, path, timeoutMs = 60_000) {
  let exited = false;
  worker.exited.then(() => (exited = true));
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !exited) {
    try {
      const r = await fetch(worker.url + path, { signal: AbortSignal.timeout(2_000) });
      await r.arrayBuffer();
      if (r.status < 500) return;
    } catch {
      // not listening yet
    }
    await sleep(200);
  }
  const tail = readFileSync(worker.logFile, "utf8").split("\n").slice(-20).join("\n");
  throw new Error(`${worker.name} did not come up at ${worker.url}${path}:\n${tail}`);
}

/** CPU time (user + system, ms) used so far by `pid` and all its descendants; null off Linux. */
export function treeCpuMs(pid) {
  let procs;
  try {
    procs = readdirSync("/proc").filter((d) => /^\d+$/.test(d));
  } catch {
    return null;
  }
  const stats = new Map();
  for (const p of procs) {
    try {
      // Fields after the parenthesised command: state ppid ... utime(14) stime(15), 1-based overall.
      const text = readFileSync(`/proc/${p}/stat`, "utf8");
      const f = text.slice(text.lastIndexOf(")") + 2).split(" ");
      stats.set(Number(p), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) });
    } catch {
      // exited meanwhile
    }
  }
  const inTree = new Set([pid]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [p, s] of stats) {
      if (!inTree.has(p) && inTree.has(s.ppid)) {
        inTree.add(p);
        grew = true;
      }
    }
  }
  let ticks = 0;
  for (const p of inTree) ticks += stats.get(p)?.ticks ?? 0;
  return (ticks * 1000) / clockTicksPerSecond();
}

let hz;
function clockTicksPerSecond() {
  if (hz === undefined) {
    const r = spawnSync("getconf", ["CLK_TCK"], { encoding: "utf8" });
    hz = Number(r.stdout.trim()) || 100;
  }
  return hz;
}
