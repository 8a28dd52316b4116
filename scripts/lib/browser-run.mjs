// What the two Chromium runs (scripts/browser-test.mjs: the console; scripts/portal-test.mjs: the tenant
// portal) share: finding Debian's Chromium, the step reporter and its report file for scripts/check.mjs, a
// bounded wait, and the stack they drive — the simulator and the gateway under workerd on free ports, built
// as `wrangler deploy` builds them, each with its own state folder and log.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { buildWorker, startWorker, waitReady } from "../../bench/lib/processes.mjs";

export const root = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

process.env.WRANGLER_SEND_METRICS ??= "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

function chromiumPath() {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH;
  for (const p of ["/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/bin/google-chrome"])
    if (existsSync(p)) return p;
  return null;
}

/** Polls `fn` until it returns a truthy value (bounded). */
export async function until(what, fn, timeoutMs = 60_000, everyMs = 500) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last;
    } catch (err) {
      last = err;
    }
    await sleep(everyMs);
  }
  throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ""}`);
}

export function assert(cond, message) {
  if (!cond) throw new Error(message);
}

/**
 * Opens a Chromium run labelled `label`: its steps and report (`createRun`, the report in
 * .wrangler/<label>-report.json), its screenshot folder artifacts/<artifacts>/ (`shots`), the Chromium to
 * drive (`executablePath`; without one the run fails a "find Chromium" step and the process exits), and a
 * work folder for state and logs (`work`), removed by the run's cleanups.
 */
export function openRun(label, artifacts) {
  const shots = join(root, "artifacts", artifacts);
  mkdirSync(shots, { recursive: true });
  const run = createRun(label, join(root, ".wrangler", `${label}-report.json`));
  const executablePath = chromiumPath();
  if (!executablePath) {
    console.error(`[${label}] no Chromium found (apt-get install chromium, or set CHROMIUM_PATH)`);
    run.results.push({ name: "find Chromium", status: "failed" });
    run.finish(1);
    process.exit();
  }
  const work = mkdtempSync(join(tmpdir(), `reelgate-${label}-`));
  run.cleanups.push(() => rmSync(work, { recursive: true, force: true }));
  return { ...run, shots, executablePath, work };
}

/**
 * A run's steps, printed as `[label] ✓ name`, and its report (`report`, read by scripts/check.mjs). A step
 * whose function returns "skip" is skipped. `cleanups` run in reverse at `close()`.
 */
function createRun(label, report) {
  mkdirSync(dirname(report), { recursive: true });
  const results = [];
  const cleanups = [];
  async function step(name, fn) {
    const started = Date.now();
    try {
      const outcome = await fn();
      if (outcome === "skip") {
        results.push({ name, status: "skipped" });
        console.log(`[${label}] - ${name} (skipped)`);
      } else {
        results.push({ name, status: "passed" });
        console.log(`[${label}] ✓ ${name} (${Date.now() - started} ms)`);
      }
    } catch (err) {
      results.push({ name, status: "failed", error: String(err?.stack ?? err) });
      console.error(`[${label}] ✗ ${name}\n${err?.stack ?? err}`);
    }
  }
  function fail(name, err) {
    results.push({ name, status: "failed", error: String(err?.stack ?? err) });
    console.error(`[${label}] ${name} failed: ${err?.stack ?? err}`);
  }
  function finish(code) {
    const count = (s) => results.filter((r) => r.status === s).length;
    const summary = { passed: count("passed"), failed: count("failed"), skipped: count("skipped") };
    writeFileSync(report, JSON.stringify({ ...summary, results }, null, 2));
    console.log(`\n${label}: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
    process.exitCode = code ?? (summary.failed ? 1 : 0);
  }
  /** After a failure, the last lines of each log in `work`; then every cleanup, newest first. */
  async function close(work) {
    if (results.some((r) => r.status === "failed"))
      for (const log of ["gateway.log", "sim.log"]) {
        const file = join(work, log);
        if (existsSync(file))
          console.error(
            `[${label}] last lines of ${log}:\n${readFileSync(file, "utf8").split("\n").slice(-40).join("\n")}`,
          );
      }
    for (const c of cleanups.reverse()) await Promise.resolve(c()).catch(() => {});
  }
  return { results, cleanups, step, fail, finish, close };
}

/**
 * A webhook receiver on 127.0.0.1:`port`, closed by the run's cleanups. It records every request
 * (`{ url, status, headers, body }`, in arrival order) and answers `statusOf(url)`: 200 unless it says
 * otherwise (a failing or dead endpoint).
 */
export function startReceiver(run, port, statusOf = () => 200) {
  const received = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on("data", (c) => chunks.push(c));
    req.on("end", () => {
      const status = statusOf(req.url);
      received.push({
        url: req.url,
        status,
        headers: req.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      res.writeHead(status, { "content-type": "text/plain" }).end(status === 200 ? "ok" : "nope");
    });
  });
  server.listen(port, "127.0.0.1");
  run.cleanups.push(() => new Promise((r) => server.close(r)));
  return received;
}

/**
 * The simulator and the gateway, on the ports given, with their state and logs in `work`; the gateway asks
 * the simulator, with local webhook URLs allowed. `simVars`/`gatewayVars` add to (or replace) the defaults.
 * Both are stopped by the run's cleanups.
 */
export async function startStack({
  run,
  work,
  ports,
  simKey,
  adminToken,
  signingSecret,
  simVars,
  gatewayVars,
}) {
  const { simPort, gwPort, simInspect, gwInspect } = ports;
  const sim = startWorker({
    name: "simulator",
    config: join(root, "sim", "wrangler.jsonc"),
    script: buildWorker(join(root, "sim", "wrangler.jsonc"), join(work, "sim-build")),
    port: simPort,
    inspectorPort: simInspect,
    persistTo: join(work, "sim"),
    vars: {
      SIM_API_KEY: simKey,
      SIM_ALLOW_LOCAL_CALLBACKS: "true",
      // The results' links point at the simulator itself, on its random port.
      SIM_MEDIA_BASE_URL: `http://127.0.0.1:${simPort}`,
      ...simVars,
    },
    logFile: join(work, "sim.log"),
  });
  run.cleanups.push(() => sim.stop());
  await waitReady(sim, "/__sim/tasks", 90_000);
  // buildWorker's `wrangler deploy --dry-run` builds public/ first (build.command in wrangler.jsonc).
  const gateway = startWorker({
    name: "gateway",
    config: join(root, "wrangler.jsonc"),
    script: buildWorker(join(root, "wrangler.jsonc"), join(work, "gateway-build")),
    port: gwPort,
    inspectorPort: gwInspect,
    persistTo: join(work, "gateway"),
    vars: {
      UPSTREAM_BASE_URL: `http://127.0.0.1:${simPort}`,
      UPSTREAM_API_KEY: simKey,
      PUBLIC_BASE_URL: `http://127.0.0.1:${gwPort}`,
      ADMIN_TOKEN: adminToken,
      SIGNING_SECRET: signingSecret,
      DEV_ALLOW_LOCAL_URLS: "true",
      ...gatewayVars,
    },
    logFile: join(work, "gateway.log"),
  });
  run.cleanups.push(() => gateway.stop());
  await waitReady(gateway, "/healthz", 90_000);
  return { sim, gateway };
}
