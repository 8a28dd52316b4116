#!/usr/bin/env node
// `npm run chaos` (not part of `npm test`): crash safety, shown with the real runtime. It starts the gateway
// (wrangler dev / workerd, state persisted to a temporary directory) and the upstream simulator on free
// ports of 127.0.0.1, with an unreliable webhook receiver; drives task creations from many users in bursts
// (Idempotency-Keys, callbacks, polls); kills the gateway's whole process tree with SIGKILL at random
// moments and restarts it on the same state; waits until every task has ended and every webhook has
// settled; then checks what must survive a crash (bench/lib/chaos-checks.mjs) and prints a report.
// Exit status 1 when any check fails. docs/operations.md ("What survives a crash") shows its figures.
//
//   npm run chaos [-- --tasks 200 --users 20 --kills 3 --seed 42 --keep]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { SignJWT } from "jose";
import { assertPortsFree, buildWorker, startWorker, waitReady } from "../bench/lib/processes.mjs";
import { startReceiver } from "../bench/lib/chaos-receiver.mjs";
import * as checks from "../bench/lib/chaos-checks.mjs";
import { loadUpstreamContract } from "./contract.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
process.env.WRANGLER_SEND_METRICS ??= "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

const { values: flags } = parseArgs({
  options: {
    tasks: { type: "string", default: "200" },
    users: { type: "string", default: "20" },
    kills: { type: "string", default: "3" },
    seed: { type: "string" },
    keep: { type: "boolean", default: false },
    report: { type: "string", default: join(root, ".wrangler", "chaos-report.json") },
  },
});
const TASKS = Number(flags.tasks);
const USERS = Number(flags.users);
const KILLS = Number(flags.kills);
const SEED = Number(flags.seed ?? Date.now() % 1_000_000);
const random = mulberry32(SEED);
const between = (lo, hi) => lo + random() * (hi - lo);

// Everything the run may take, and each wait inside it, is bounded.
const RUN_DEADLINE = Date.now() + 12 * 60_000;
const CREATE_GIVE_UP_MS = 5 * 60_000;
const SETTLE_TIMEOUT_MS = 5 * 60_000;
const QUIET_MS = 8_000;

const TENANT = "chaos";
const ISSUER = "https://id.chaos.reelgate.test/";
const AUDIENCE = "reelgate-chaos";
const HS_SECRET = `chaos-hs256-${"k".repeat(32)}`;
const WEBHOOK_SECRET = `whsec_${Buffer.from("chaos-webhook-secret-0123456789ab").toString("base64")}`;
const ADMIN_TOKEN = `chaos-admin-${Math.random().toString(36).slice(2)}-token`;
const SIM_KEY = "sim-chaos-key";
const CREDITS_PER_TASK = 23.8; // 5 s of 720p with audio from one reference clip (docs/quotas.md)
// Budgets that fit every task exactly once (10 per user): a reservation leaked by a crash would surface
// as a 402 for the user's last tasks. Rate and concurrency bind for real under the bursts.
const LIMITS = {
  quotas: {
    requests_per_minute: 150,
    max_concurrent_tasks: 20,
    monthly_credits: (TASKS * CREDITS_PER_TASK + 40) | 0,
  },
  user_quotas: {
    requests_per_minute: 12,
    max_concurrent_tasks: 2,
    monthly_credits: Math.ceil((TASKS / USERS) * CREDITS_PER_TASK) + 2,
  },
};

const work = mkdtempSync(join(tmpdir(), "reelgate-chaos-"));
const ports = {
  gateway: await freePort(),
  gatewayInspector: await freePort(),
  sim: await freePort(),
  simInspector: await freePort(),
  receiver: await freePort(),
};
const gatewayUrl = `http://127.0.0.1:${ports.gateway}`;
const simUrl = `http://127.0.0.1:${ports.sim}`;
const started = Date.now();
const log = (line) =>
  console.log(`[chaos ${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${line}`);

let gateway;
let sim;
let receiver;
let gatewayStarts = 0;
const kills = [];
const creations = [];
const samples = [];
const simTasks = new Map();
let gatewayDown = false;
/** The kill whose outage is under way (or was the last one): network errors are charged to it. */
let currentKill = 0;

async function main() {
  log(`seed ${SEED}; ${TASKS} creations from ${USERS} users, ${KILLS} kills; work dir ${work}`);
  const builds = {
    gateway: buildWorker(join(root, "wrangler.jsonc"), join(work, "build-gateway")),
    sim: buildWorker(join(root, "sim", "wrangler.jsonc"), join(work, "build-sim")),
  };
  receiver = await startReceiver({
    port: ports.receiver,
    secret: WEBHOOK_SECRET,
    failRate: 0.3,
    maxFailsPerEvent: 3,
    random,
  });
  sim = startSim(builds.sim);
  await waitReady(sim, "/__sim/tasks");
  gateway = startGateway(builds.gateway);
  await waitReady(gateway, "/healthz");
  log(`gateway ${gatewayUrl}, simulator ${simUrl}, receiver ${receiver.url}`);
  await createTenant();
  // The upstream answers a create 0.5 s after making the task (EvoLink takes about a second): a kill in
  // that window leaves an upstream task whose creation the gateway never heard of — the case where a
  // retry could make a second, paid one.
  const faults = await fetch(`${simUrl}/__sim/faults`, {
    method: "POST",
    body: JSON.stringify({ createAnswerDelayMs: 500 }),
  });
  if (!faults.ok) throw new Error(`the simulator refused its faults: ${await faults.text()}`);

  const sampling = sampler();
  const killing = killer(builds.gateway);
  await drive();
  await killing.done;
  log(`every creation answered; ${kills.length} kills done; waiting for every task and webhook to settle`);
  await settle();
  sampling.stop();
  await sampling.done;
  await replayEach();
  const data = await collect();
  report(data);
}

// --- processes

function startSim(script) {
  const contract = loadUpstreamContract();
  return startWorker({
    name: "sim",
    config: join(root, "sim", "wrangler.jsonc"),
    script,
    port: ports.sim,
    inspectorPort: ports.simInspector,
    persistTo: join(work, "state-sim"),
    vars: {
      SIM_API_KEY: SIM_KEY,
      SIM_ALLOW_LOCAL_CALLBACKS: "true",
      SIM_COMPLETE_AFTER_MS: "3000",
      SIM_PROCESSING_AFTER_MS: "1000",
      SIM_MEDIA_BASE_URL: `http://127.0.0.1:${ports.sim}`,
      ...(contract ? { UPSTREAM_CONTRACT: JSON.stringify(contract) } : {}),
    },
    logFile: join(work, "sim.log"),
  });
}

function startGateway(script) {
  gatewayStarts++;
  return startWorker({
    name: "gateway",
    config: join(root, "wrangler.jsonc"),
    script,
    port: ports.gateway,
    inspectorPort: ports.gatewayInspector,
    // The same directory every time: KV, Durable Object SQLite (and its alarms) and R2 live here.
    persistTo: join(work, "state-gateway"),
    vars: {
      UPSTREAM_BASE_URL: simUrl,
      UPSTREAM_API_KEY: SIM_KEY,
      PUBLIC_BASE_URL: gatewayUrl,
      ADMIN_TOKEN,
      SIGNING_SECRET: `chaos-signing-secret-${"s".repeat(32)}`,
      DEV_ALLOW_LOCAL_URLS: "true",
      LOG_LEVEL: "warn",
      // Seconds, not hours (7 entries: the queue's max_retries); the sweeper asks after 10 s of silence;
      // a create orphaned by a kill is aborted 5 s + 60 s after its admission.
      WEBHOOK_RETRY_SCHEDULE: "1,1,2,2,3,3,5",
      SWEEP_MIN_AGE_SECONDS: "10",
      UPSTREAM_TIMEOUT_MS: "5000",
      FILES_BACKEND: "r2",
    },
    logFile: join(work, `gateway-${gatewayStarts}.log`),
  });
}

/** Pids in process group `pgid` (the wrangler process, its workerd and any other child). */
function groupPids(pgid) {
  const pids = [];
  for (const d of readdirSync("/proc").filter((x) => /^\d+$/.test(x))) {
    try {
      const stat = readFileSync(`/proc/${d}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(f[2]) === pgid)
        pids.push({ pid: Number(d), comm: stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")")) });
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

/** SIGKILLs the gateway's whole process tree at random moments, restarting it on the same state. */
function killer(script) {
  const done = (async () => {
    for (let k = 1; k <= KILLS; k++) {
      await sleep(between(6_000, 20_000));
      // A random moment, taken while a creation is on its way (waiting at most 5 s for one): the kills
      // that matter cut work off halfway.
      for (let i = 0; i < 50 && ![...creating.values()].some((t) => Date.now() - t > 100); i++)
        await sleep(100);
      const creationsInFlight = creating.size;
      const victims = groupPids(gateway.pid);
      const inFlight = activeRequests;
      const killedAt = Date.now();
      currentKill = k;
      gatewayDown = true;
      gateway.stop("SIGKILL");
      await gateway.exited;
      for (let i = 0; groupPids(gateway.pid).length > 0 && i < 50; i++) await sleep(100);
      await untilPortsFree([ports.gateway, ports.gatewayInspector]);
      gateway = startGateway(script);
      await waitReady(gateway, "/healthz", 90_000);
      const readyAt = Date.now();
      gatewayDown = false;
      const kill = {
        k,
        killedAt,
        readyAt,
        inFlight,
        creationsInFlight,
        processes: victims.map((v) => v.comm),
      };
      kills.push(kill);
      log(
        `kill ${k}: SIGKILL to ${victims.length} processes (${kill.processes.join(", ")}) with ${inFlight} requests in flight ` +
          `(${creationsInFlight} creations); back up after ${readyAt - killedAt} ms`,
      );
    }
  })();
  return { done };
}

async function untilPortsFree(list) {
  for (let i = 0; ; i++) {
    try {
      return await assertPortsFree(list);
    } catch (err) {
      if (i >= 100) throw err;
      await sleep(100);
    }
  }
}

async function stopAll() {
  for (const w of [gateway, sim]) {
    if (!w) continue;
    w.stop("SIGTERM");
    if ((await Promise.race([w.exited, sleep(5_000).then(() => "late")])) === "late") w.stop("SIGKILL");
  }
  await receiver?.close();
}

// --- the tenant and its users

async function createTenant() {
  const res = await fetch(`${gatewayUrl}/admin/tenants/${TENANT}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({
      name: "Chaos tenant",
      auth: { issuer: ISSUER, audience: AUDIENCE, hs256_secret: HS_SECRET },
      ...LIMITS,
      webhook: { url: `${receiver.url}/webhook`, secret: WEBHOOK_SECRET },
    }),
  });
  if (!res.ok) throw new Error(`creating the tenant failed: ${res.status} ${await res.text()}`);
}

const tokens = new Map();
async function tokenFor(sub) {
  if (!tokens.has(sub))
    tokens.set(
      sub,
      await new SignJWT({})
        .setProtectedHeader({ alg: "HS256", typ: "JWT" })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setSubject(sub)
        .setIssuedAt()
        .setExpirationTime("2h")
        .sign(new TextEncoder().encode(HS_SECRET)),
    );
  return tokens.get(sub);
}

// --- traffic

let activeRequests = 0;
/** Creation requests in flight: creation number → when it was sent. */
const creating = new Map();
/** When each creation was answered 200 (first answers and replays alike). */
const createdAt = [];
let settledAt = null;

/** fetch with a timeout, counted while in flight; a network error (the kill) comes back as { error }. */
async function call(url, init = {}, timeoutMs = 30_000) {
  activeRequests++;
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(timeoutMs) });
    const text = await res.text();
    let json = null;
    try {
      json = JSON.parse(text);
    } catch {
      // not JSON
    }
    return { status: res.status, headers: res.headers, json, text };
  } catch (err) {
    return { error: String(err?.cause?.code ?? err?.name ?? err) };
  } finally {
    activeRequests--;
  }
}

/** The creations, in bursts: every user at once, then a pause; each retries until answered. */
async function drive() {
  const running = [];
  const bursts = Math.ceil(TASKS / USERS);
  for (let b = 0; b < bursts; b++) {
    for (let u = 0; u < USERS && creations.length < TASKS; u++) {
      const c = newCreation(creations.length, `user-${String(u + 1).padStart(2, "0")}`);
      creations.push(c);
      running.push(
        create(c).catch((err) => {
          c.outcome = "error";
          c.lastError = String(err);
        }),
      );
    }
    await sleep(between(2_500, 6_000));
  }
  await Promise.all(running);
}

function newCreation(n, user) {
  const roll = random();
  const expect = roll < 0.12 ? "failed" : roll < 0.17 ? "cancelled" : "completed";
  const marker = expect === "failed" ? " [sim:fail]" : expect === "cancelled" ? " [sim:cancel]" : "";
  const body = {
    model: "wan2.6-reference-video-flash",
    prompt: `Chaos task ${n}: a person dancing${marker}`,
    video_urls: ["https://example.com/reference.mp4"],
    // Half the tasks name their own callback_url: the event goes there instead of the tenant's webhook.
    ...(random() < 0.5 ? { callback_url: `${receiver.url}/task-callback/${user}` } : {}),
  };
  return {
    n,
    user,
    key: `chaos-${SEED}-${n}-${Math.random().toString(36).slice(2, 10)}`,
    body,
    expect,
    poll: random() < 0.5,
    outcome: null,
    taskId: null,
    attempts: 0,
    answers: {},
    affected: new Set(),
    stillRunningAfter: new Set(),
    /** Per kill: when the gateway next answered this creation (any status) after it was cut off. */
    reanswered: new Map(),
    answeredAt: null,
    lastError: null,
  };
}

/** One creation, retried with its Idempotency-Key until it has a task, a final refusal, or gives up. */
async function create(c) {
  const giveUp = Date.now() + CREATE_GIVE_UP_MS;
  const headers = {
    authorization: `Bearer ${await tokenFor(c.user)}`,
    "content-type": "application/json",
    "idempotency-key": c.key,
  };
  while (Date.now() < giveUp) {
    c.attempts++;
    creating.set(c.n, Date.now());
    const r = await call(`${gatewayUrl}/v1/videos/generations`, {
      method: "POST",
      headers,
      body: JSON.stringify(c.body),
    });
    creating.delete(c.n);
    const kind = r.error ? "network" : String(r.status);
    c.answers[kind] = (c.answers[kind] ?? 0) + 1;
    if (r.error || gatewayDown) c.affected.add(currentKill);
    else if (c.affected.has(currentKill) && !c.reanswered.has(currentKill))
      c.reanswered.set(currentKill, Date.now());
    if (r.status === 409) c.stillRunningAfter.add(currentKill);
    if (r.status === 200) createdAt.push(Date.now());
    if (r.status === 200 && r.json?.id) {
      c.outcome = "created";
      c.taskId = r.json.id;
      c.answeredAt = Date.now();
      if (c.poll) void poll(c).catch(() => {});
      return;
    }
    if (r.status === 402) {
      c.outcome = "refused";
      c.lastError = r.text;
      return;
    }
    c.lastError = r.error ?? `${r.status} ${r.text.slice(0, 200)}`;
    const retryAfter = Number(r.headers?.get("retry-after") ?? 0);
    if (r.error || r.status >= 500) await sleep(between(200, 600));
    else if (r.status === 429 || r.status === 409)
      await sleep(Math.min(retryAfter || 1, 5) * 1000 * between(0.5, 1.2));
    else {
      c.outcome = "unexpected";
      return;
    }
  }
  c.outcome = "gave_up";
}

/** A client polling its task until it ends (as an app without a webhook would). */
async function poll(c) {
  const headers = { authorization: `Bearer ${await tokenFor(c.user)}` };
  const until = Date.now() + 3 * 60_000;
  while (Date.now() < until) {
    await sleep(between(1_000, 2_000));
    const r = await call(`${gatewayUrl}/v1/tasks/${c.taskId}`, { headers }, 10_000);
    if (["completed", "failed", "cancelled"].includes(r.json?.status)) return;
  }
}

/** Samples the credit ledger's totals and the simulator's tasks every 2 s while the run lasts. */
function sampler() {
  let running = true;
  const done = (async () => {
    while (running) {
      await sampleOnce();
      await sleep(2_000);
    }
  })();
  return { stop: () => (running = false), done };
}

async function sampleOnce() {
  const usage = await call(`${gatewayUrl}/admin/tenants/${TENANT}/usage?limit=1`, {
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  if (usage.status === 200) samples.push({ at: Date.now(), totals: usage.json.totals });
  await readSimTasks();
}

/** The simulator keeps its tasks in memory: read often and merged, so nothing it saw is missed. */
async function readSimTasks() {
  const r = await call(`${simUrl}/__sim/tasks`);
  if (r.status === 200) for (const t of r.json) simTasks.set(t.id, t);
}

// --- settling and collecting

async function admin(path) {
  const r = await call(`${gatewayUrl}${path}`, { headers: { authorization: `Bearer ${ADMIN_TOKEN}` } });
  if (r.status !== 200) throw new Error(`GET ${path}: ${r.error ?? `${r.status} ${r.text}`}`);
  return r.json;
}

async function listAll() {
  const items = [];
  for (let page = 1; page <= 50; page++) {
    const r = await admin(`/admin/tenants/${TENANT}/tasks?page_size=100&page=${page}`);
    items.push(...r.data);
    if (r.data.length < 100) break;
  }
  return items;
}

async function ledgerAll() {
  const first = await admin(`/admin/tenants/${TENANT}/usage?limit=1000`);
  const tasks = [...first.tasks];
  let cursor = first.cursor;
  for (let i = 0; cursor && i < 20; i++) {
    const next = await admin(
      `/admin/tenants/${TENANT}/usage?limit=1000&cursor=${encodeURIComponent(cursor)}`,
    );
    tasks.push(...next.tasks);
    cursor = next.cursor;
  }
  return { totals: first.totals, tasks };
}

/** Waits until every created task has ended, nothing is reserved, every event was accepted, then quiet. */
async function settle() {
  const deadline = Math.min(RUN_DEADLINE, Date.now() + SETTLE_TIMEOUT_MS);
  let lastProgress = "";
  while (Date.now() < deadline) {
    const state = await settledState().catch((err) => ({ error: String(err) }));
    const progress = JSON.stringify(state);
    if (progress !== lastProgress) log(`settling: ${progress}`);
    lastProgress = progress;
    if (state.open === 0 && state.reserved === 0 && state.unaccepted === 0) {
      settledAt ??= Date.now();
      const count = receiver.deliveries.length;
      await sleep(QUIET_MS);
      if (receiver.deliveries.length === count) return;
      settledAt = null;
      continue;
    }
    await sleep(2_000);
  }
  log("settle timed out: the checks below say what is missing");
}

async function settledState() {
  const created = creations.filter((c) => c.outcome === "created");
  const listed = await listAll();
  const ledger = await admin(`/admin/tenants/${TENANT}/usage?limit=1`);
  const accepted = new Set(receiver.deliveries.filter((d) => d.answered === 204).map((d) => d.taskId));
  return {
    open: listed.filter((t) => !["completed", "failed", "cancelled"].includes(t.status)).length,
    reserved: ledger.totals.find((t) => t.scope === "tenant")?.reserved ?? 0,
    unaccepted: created.filter((c) => !accepted.has(c.taskId)).length,
    deliveries: receiver.deliveries.length,
  };
}

/** Sends every created task's request once more with its key: the answer must be the same task, replayed. */
async function replayEach() {
  const created = creations.filter((c) => c.outcome === "created");
  for (let i = 0; i < created.length; i += 10)
    await Promise.all(
      created.slice(i, i + 10).map(async (c) => {
        const r = await call(`${gatewayUrl}/v1/videos/generations`, {
          method: "POST",
          headers: {
            authorization: `Bearer ${await tokenFor(c.user)}`,
            "content-type": "application/json",
            "idempotency-key": c.key,
          },
          body: JSON.stringify(c.body),
        });
        c.replay = {
          status: r.status ?? r.error,
          id: r.json?.id,
          replayed: r.headers?.get("idempotency-replayed") === "true",
        };
      }),
    );
}

async function collect() {
  await readSimTasks();
  // Every create the upstream received, by upstream Idempotency-Key: a key sent more than once is a forward
  // retried after a kill (or a failure), the case where a second paid task could have been made.
  const requests = await call(`${simUrl}/__sim/requests`, {}, 60_000);
  const upstreamPosts = (requests.json ?? []).filter(
    (r) => r.method === "POST" && r.path === "/v1/videos/generations",
  );
  return { listed: await listAll(), ledger: await ledgerAll(), upstreamPosts };
}

// --- the report

function recoveryOf(kill) {
  const affected = creations.filter((c) => c.affected.has(kill.k));
  const answered = affected.filter((c) => c.answeredAt !== null).map((c) => c.answeredAt);
  const reanswered = affected.map((c) => c.reanswered.get(kill.k)).filter((t) => t !== undefined);
  const firstCreated = createdAt.find((t) => t >= kill.readyAt);
  return {
    kill: kill.k,
    at_s: Number(((kill.killedAt - started) / 1000).toFixed(1)),
    requests_in_flight: kill.inFlight,
    creations_in_flight: kill.creationsInFlight,
    back_up_ms: kill.readyAt - kill.killedAt,
    creations_interrupted: affected.length,
    // Retries told "still being processed" (409) after this kill: the attempt the kill cut short held the key.
    creations_told_still_running: creations.filter((c) => c.stillRunningAfter.has(kill.k)).length,
    first_task_created_after_ms: firstCreated === undefined ? null : firstCreated - kill.killedAt,
    // Every creation the kill cut off had an answer again (a task, or a 429 of the limits) by then.
    all_answered_again_after_ms: reanswered.length ? Math.max(...reanswered) - kill.killedAt : null,
    // ... and had its task by then (rate and concurrency limits queue them: the tail is the limits').
    all_created_after_ms: answered.length ? Math.max(...answered) - kill.killedAt : null,
  };
}

function report({ listed, ledger, upstreamPosts }) {
  const created = creations.filter((c) => c.outcome === "created");
  const deliveries = receiver.deliveries;
  const results = [
    checks.creationsAnswered(creations),
    checks.endsExactlyOnce({ created, listed, ledger, deliveries }),
    checks.creditsSettled({ ledger, simTasks, listed }),
    checks.withinLimits({ limits: LIMITS, listed, simTasks, ledger, samples }),
    checks.webhooksDelivered({ created, deliveries }),
    checks.oneUpstreamTaskEach({ created, listed, simTasks, upstreamPosts }),
  ];
  if (kills.length !== KILLS)
    results.push({ name: `${KILLS} kills`, ok: false, summary: { kills: kills.length }, details: [] });
  const recovery = kills.map(recoveryOf);
  const answers = {};
  for (const c of creations)
    for (const [k, n] of Object.entries(c.answers)) answers[k] = (answers[k] ?? 0) + n;
  const lastReady = kills.length ? kills[kills.length - 1].readyAt : started;
  const summary = {
    seed: SEED,
    duration_s: Math.round((Date.now() - started) / 1000),
    tasks: created.length,
    users: USERS,
    kills: recovery,
    create_answers: answers,
    // Events the outbox sent again because their lease ran out unconfirmed (the queue lost them in a kill).
    outbox_resends: countInLogs('"outbox_resent"'),
    settled_after_last_restart_ms: settledAt === null ? null : settledAt - lastReady,
    results,
  };
  mkdirSync(dirname(flags.report), { recursive: true });
  writeFileSync(flags.report, JSON.stringify(summary, null, 2));

  console.log("\n=== chaos run ===");
  console.log(`seed ${SEED}, ${summary.duration_s} s, ${created.length} tasks from ${USERS} users`);
  console.log(`create attempts by answer: ${JSON.stringify(answers)}`);
  for (const r of recovery)
    console.log(
      `kill ${r.kill} at ${r.at_s} s: ${r.requests_in_flight} requests in flight (${r.creations_in_flight} creations); ` +
        `gateway back up after ${r.back_up_ms} ms, ` +
        `first task created ${r.first_task_created_after_ms ?? "-"} ms after the kill; ${r.creations_interrupted} creations cut off ` +
        `(${r.creations_told_still_running} told 409 still running): all answered again after ${r.all_answered_again_after_ms ?? "-"} ms, ` +
        `all created after ${r.all_created_after_ms ?? "-"} ms`,
    );
  console.log(
    `outbox resends (events the kills made the queue lose): ${summary.outbox_resends}; ` +
      `every task ended and every webhook accepted ${summary.settled_after_last_restart_ms ?? "-"} ms after the last restart`,
  );
  for (const r of results) {
    console.log(`${r.ok ? "PASS" : "FAIL"}  ${r.name}  ${JSON.stringify(r.summary)}`);
    for (const d of r.details) console.log(`        - ${d}`);
    if (r.more > r.details.length) console.log(`        … ${r.more - r.details.length} more`);
  }
  const failed = results.filter((r) => !r.ok).length;
  console.log(
    failed
      ? `\n${failed} check(s) failed (report: ${flags.report})`
      : `\nall checks passed (report: ${flags.report})`,
  );
  process.exitCode = failed ? 1 : 0;
}

// --- helpers

/** Lines of the gateway's logs (all its starts) that contain `needle`. */
function countInLogs(needle) {
  let n = 0;
  for (let i = 1; i <= gatewayStarts; i++) {
    try {
      n += readFileSync(join(work, `gateway-${i}.log`), "utf8")
        .split("\n")
        .filter((l) => l.includes(needle)).length;
    } catch {
      // no log
    }
  }
  return n;
}

async function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once("error", rej);
    s.listen(0, "127.0.0.1", () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

/** A small seeded PRNG, so a run's choices (outcomes, callbacks, kill moments) follow its printed seed. */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// --- the run (last, so every declaration above is initialised)

process.on("SIGINT", () => {
  void stopAll().then(() => process.exit(130));
});

try {
  await main();
} catch (err) {
  console.error(`[chaos] ${err?.stack ?? err}`);
  process.exitCode = 1;
} finally {
  await stopAll();
  if (process.exitCode && !flags.keep) console.error(`[chaos] logs and state kept in ${work}`);
  else if (!flags.keep) rmSync(work, { recursive: true, force: true });
}
