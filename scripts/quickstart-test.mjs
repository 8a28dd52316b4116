#!/usr/bin/env node
// `npm run test:quickstart` (a step of `npm test`): the README's "## Quickstart" as a reader follows it, so
// the README cannot drift from what works. Its first shell block (`npm start`) runs in the background with a
// fresh state directory; every other shell block then runs with bash, in order, as one session "in another
// shell" (variables a block sets, such as TOKEN, reach the next ones), and must exit 0 (`set -eo pipefail`)
// and print what the test expects of it. The one change made to the blocks: the gateway's port, :8787 in
// the README, becomes the free port this run started it on (every port is a free random one, on
// 127.0.0.1, so the test never meets a developer's own `npm start`). Ends by stopping `npm start` as Ctrl-C
// would, and checks that nothing it started is left. Bounded: every wait has a timeout, and whatever is
// still running at the end is killed. Writes .wrangler/quickstart-report.json for scripts/check.mjs.
import { spawn } from "node:child_process";
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { assertPortsFree, freePorts } from "../bench/lib/processes.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const report = join(root, ".wrangler", "quickstart-report.json");
mkdirSync(dirname(report), { recursive: true });

const README_PORT = 8787;
const START_TIMEOUT_MS = 240_000;
const BLOCK_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 20_000;

/**
 * What each block (after `npm start`) must print, found by what the block does. A block no entry matches
 * fails the test: a new quickstart step needs its expected output here.
 */
const EXPECTED = [
  {
    what: "a generation from a public URL, then the task read back",
    block: /\/v1\/videos\/generations[\s\S]*\/v1\/tasks\/\$ID/,
    output: [/"id":"task-unified-[^"]+"/, /"status":"(pending|processing|completed)"/],
  },
  {
    what: "the task's event stream to its end, then its kept result downloaded",
    block: /\/v1\/tasks\/\$ID\/events[\s\S]*\$RESULT/,
    output: [
      /^event: completed$/m,
      /^http:\/\/127\.0\.0\.1:\d+\/results\/[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\/video-1\.mp4$/m,
      /^200 video\/mp4 2000000 bytes$/m,
    ],
  },
  {
    what: "an upload of demo/reference.mp4, then a generation from its file_url",
    block: /\/api\/v1\/files\/upload\/stream[\s\S]*\$FILE_URL/,
    output: [/"id":"task-unified-[^"]+"/, /"status":"pending"/],
  },
];

const results = [];

/** The README's Quickstart section: its ```sh / ```bash blocks, in order. */
function quickstartBlocks(markdown) {
  const section = markdown.split(/^## /m).find((s) => s.startsWith("Quickstart\n"));
  if (!section) throw new Error('README.md has no "## Quickstart" section');
  return [...section.matchAll(/^```(?:sh|bash)\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
}

/** Names a block assigns at the start of a line (`TOKEN=…`), carried to the blocks after it. */
function assigned(block) {
  return [...new Set([...block.matchAll(/^\s*([A-Za-z_][A-Za-z0-9_]*)=/gm)].map((m) => m[1]))];
}

function record(name, error) {
  if (error) {
    results.push({ name, status: "failed", error: String(error?.stack ?? error) });
    console.error(`[quickstart] ✗ ${name}\n${error?.stack ?? error}`);
  } else {
    results.push({ name, status: "passed" });
    console.log(`[quickstart] ✓ ${name}`);
  }
}

/** Runs `script` with bash in its own process group; kills the group after `timeoutMs`. */
function bash(script, env, timeoutMs) {
  return new Promise((resolveRun) => {
    const child = spawn("bash", ["-c", script], { cwd: root, env, detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (c) => (stdout += c));
    child.stderr.setEncoding("utf8").on("data", (c) => (stderr += c));
    const timer = setTimeout(() => killGroup(child.pid, "SIGKILL"), timeoutMs);
    child.on("exit", (code, signal) => {
      clearTimeout(timer);
      resolveRun({ code: code ?? (signal ? `killed (${signal}) after ${timeoutMs} ms` : 1), stdout, stderr });
    });
  });
}

function killGroup(pid, signal) {
  try {
    process.kill(-pid, signal);
    return true;
  } catch {
    return false; // the group is gone
  }
}

function groupAlive(pid) {
  try {
    process.kill(-pid, 0);
    return true;
  } catch {
    return false;
  }
}

const blocks = quickstartBlocks(readFileSync(join(root, "README.md"), "utf8"));
const [serverBlock, ...sessionBlocks] = blocks;
const work = mkdtempSync(join(tmpdir(), "reelgate-quickstart-"));
const [gatewayPort, simPort, receiverPort, gatewayInspector, simInspector] = await freePorts(5);
// What a fresh shell has: none of the settings that would change what `npm start` does.
const env = { ...process.env };
for (const name of [
  "UPSTREAM_API_KEY",
  "UPSTREAM_BASE_URL",
  "PUBLIC_BASE_URL",
  "FILES_BACKEND",
  "FILES_BASE_URL",
  "EXTRA_VARS",
  "RECEIVER_FAIL",
  "ADMIN_TOKEN",
  "SIGNING_SECRET",
  "DEMO_HS256_SECRET",
])
  delete env[name];
Object.assign(env, {
  WRANGLER_SEND_METRICS: "false",
  CLOUDFLARE_CF_FETCH_ENABLED: "false",
  GATEWAY_PORT: String(gatewayPort),
  SIM_PORT: String(simPort),
  RECEIVER_PORT: String(receiverPort),
  GATEWAY_INSPECTOR_PORT: String(gatewayInspector),
  SIM_INSPECTOR_PORT: String(simInspector),
  STATE_DIR: join(work, "state"),
});
const startLog = join(work, "npm-start.log");

let server = null;
let serverOutput = "";
try {
  const name = `\`${serverBlock.trim()}\` brings up the gateway, the simulator and the demo tenant`;
  try {
    if (serverBlock.trim() !== "npm start")
      throw new Error(`the Quickstart's first block is not \`npm start\`:\n${serverBlock}`);
    server = spawn("bash", ["-c", serverBlock], { cwd: root, env, detached: true });
    const log = createWriteStream(startLog);
    const exited = new Promise((r) => server.once("exit", (code) => r(code ?? 1)));
    for (const stream of [server.stdout, server.stderr]) {
      stream.setEncoding("utf8").on("data", (c) => {
        serverOutput += c;
        log.write(c);
      });
    }
    const deadline = Date.now() + START_TIMEOUT_MS;
    let early = null;
    exited.then((code) => (early = code));
    while (!serverOutput.includes('demo tenant "demo" ready')) {
      if (early !== null) throw new Error(`npm start exited (${early}) before the demo tenant was ready`);
      if (Date.now() > deadline) throw new Error(`npm start was not ready within ${START_TIMEOUT_MS} ms`);
      await sleep(250);
    }
    record(name);
  } catch (err) {
    record(name, err);
    throw err;
  }

  const vars = join(work, "session-vars.sh");
  writeFileSync(vars, "");
  for (const [i, block] of sessionBlocks.entries()) {
    const matches = EXPECTED.filter((e) => e.block.test(block));
    const name = `block ${i + 2}: ${matches.length === 1 ? matches[0].what : block.split("\n")[0]}`;
    try {
      if (matches.length !== 1)
        throw new Error(
          `${matches.length} expectations match this Quickstart block (one must: add it to EXPECTED):\n${block}`,
        );
      const names = assigned(block);
      const script = [
        "set -eo pipefail",
        `source ${JSON.stringify(vars)}`,
        block.replace(
          new RegExp(`\\b(localhost|127\\.0\\.0\\.1):${README_PORT}\\b`, "g"),
          `$1:${gatewayPort}`,
        ),
        names.length ? `declare -p ${names.join(" ")} >> ${JSON.stringify(vars)}` : "",
      ].join("\n");
      const run = await bash(script, env, BLOCK_TIMEOUT_MS);
      if (run.code !== 0)
        throw new Error(`exited ${run.code}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`);
      const missing = matches[0].output.filter((re) => !re.test(run.stdout));
      if (missing.length)
        throw new Error(
          `its output lacks ${missing.join(", ")}\nstdout:\n${run.stdout}\nstderr:\n${run.stderr}`,
        );
    } catch (err) {
      record(name, err);
      continue;
    }
    record(name);
  }

  const stopName = "Ctrl-C stops everything npm start started";
  try {
    // A terminal's Ctrl-C signals the whole foreground process group.
    killGroup(server.pid, "SIGINT");
    const deadline = Date.now() + STOP_TIMEOUT_MS;
    while (groupAlive(server.pid) && Date.now() < deadline) await sleep(200);
    if (groupAlive(server.pid))
      throw new Error(`processes were left running ${STOP_TIMEOUT_MS} ms after SIGINT`);
    await assertPortsFree([gatewayPort, simPort, receiverPort]);
    record(stopName);
  } catch (err) {
    record(stopName, err);
  }
} catch {
  // The set-up failed and is recorded; the blocks are not run.
} finally {
  if (server && killGroup(server.pid, "SIGTERM")) {
    await sleep(2_000);
    killGroup(server.pid, "SIGKILL");
  }
  if (results.some((r) => r.status === "failed"))
    console.error(`[quickstart] last lines of npm start:\n${serverOutput.split("\n").slice(-40).join("\n")}`);
  rmSync(work, { recursive: true, force: true });
  const count = (s) => results.filter((r) => r.status === s).length;
  const summary = { passed: count("passed"), failed: count("failed"), skipped: count("skipped") };
  writeFileSync(report, JSON.stringify({ ...summary, results }, null, 2));
  console.log(`\nquickstart: ${summary.passed} passed, ${summary.failed} failed, ${summary.skipped} skipped`);
  process.exitCode = summary.failed ? 1 : 0;
}
