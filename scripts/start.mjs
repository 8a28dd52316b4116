#!/usr/bin/env node
// `npm start`: the gateway on the local Workers runtime (wrangler dev / workerd, local KV, Durable Objects
// and Queues persisted under .wrangler/state), plus the bundled upstream simulator when no
// UPSTREAM_API_KEY is set, a local webhook receiver (scripts/receiver.mjs), then a demo tenant whose
// webhooks go to that receiver. Ctrl-C stops everything. Ports and the state directory are those of
// scripts/demo.mjs (each overridable by its environment variable; scripts/quickstart-test.mjs uses free ones).
// wrangler.jsonc's build.command builds the static assets (public/) before the gateway starts.
import { join } from "node:path";
import { spawn } from "node:child_process";
import { setTimeout as sleep } from "node:timers/promises";
import { loadUpstreamContract } from "./contract.mjs";
import * as demo from "./demo.mjs";

const children = [];
const realUpstream = Boolean(process.env.UPSTREAM_API_KEY);

function run(name, args, command = "wrangler") {
  const child = spawn(command, args, { stdio: ["ignore", "pipe", "pipe"], env: process.env });
  const prefix = (line) => `[${name}] ${line}`;
  for (const stream of [child.stdout, child.stderr]) {
    stream.setEncoding("utf8");
    stream.on("data", (chunk) => {
      for (const line of chunk.split("\n")) if (line.trim()) console.log(prefix(line));
    });
  }
  child.on("exit", (code) => {
    console.log(prefix(`exited (${code})`));
    shutdown(code ?? 1);
  });
  children.push(child);
  return child;
}

let stopping = false;
function shutdown(code = 0) {
  if (stopping) return;
  stopping = true;
  for (const c of children) c.kill("SIGTERM");
  setTimeout(() => process.exit(code), 500).unref();
}
process.on("SIGINT", () => shutdown(0));
process.on("SIGTERM", () => shutdown(0));

async function waitFor(url, what) {
  for (let i = 0; i < 240; i++) {
    try {
      const r = await fetch(url);
      if (r.status < 500) return;
    } catch {}
    await sleep(250);
  }
  throw new Error(`${what} did not come up at ${url}`);
}

const vars = (o) => Object.entries(o).flatMap(([k, v]) => ["--var", `${k}:${v}`]);

if (!realUpstream) {
  // Every OpenAPI file, files/*.json included: the simulator's files API validates against them too.
  const contract = loadUpstreamContract();
  if (!contract)
    console.log("[start] ../shared/upstream not found: the simulator validates with its built-in rules only");
  run("sim", [
    "dev",
    "-c",
    "sim/wrangler.jsonc",
    "--ip",
    "127.0.0.1",
    "--inspector-port",
    String(demo.SIM_INSPECTOR_PORT),
    "--port",
    String(demo.SIM_PORT),
    "--persist-to",
    join(demo.STATE_DIR, "sim-state"),
    "--show-interactive-dev-session=false",
    ...vars({
      SIM_API_KEY: demo.SIM_API_KEY,
      SIM_ALLOW_LOCAL_CALLBACKS: "true",
      // The simulator serves the results' bytes itself (/media/{task id}.mp4), so their links point at it.
      SIM_MEDIA_BASE_URL: `http://127.0.0.1:${demo.SIM_PORT}`,
      ...(contract ? { UPSTREAM_CONTRACT: JSON.stringify(contract) } : {}),
    }),
  ]);
  // Two `wrangler dev` starting at the same moment can race for one of workerd's local sockets
  // ("Address already in use"), so the gateway starts once the simulator is up.
  await waitFor(`http://127.0.0.1:${demo.SIM_PORT}/__sim/tasks`, "simulator");
}

// Verifies and prints every webhook the demo tenant receives (RECEIVER_FAIL=n: fail the first n).
run("receiver", ["scripts/receiver.mjs", "--port", String(demo.RECEIVER_PORT)], process.execPath);

run("gateway", [
  "dev",
  "--ip",
  "127.0.0.1",
  "--port",
  String(demo.GATEWAY_PORT),
  "--inspector-port",
  String(demo.GATEWAY_INSPECTOR_PORT),
  "--persist-to",
  join(demo.STATE_DIR, "state"),
  "--show-interactive-dev-session=false",
  ...vars({
    UPSTREAM_BASE_URL:
      process.env.UPSTREAM_BASE_URL ??
      (realUpstream ? "https://api.evolink.ai" : `http://127.0.0.1:${demo.SIM_PORT}`),
    UPSTREAM_API_KEY: process.env.UPSTREAM_API_KEY ?? demo.SIM_API_KEY,
    PUBLIC_BASE_URL: process.env.PUBLIC_BASE_URL ?? demo.GATEWAY_URL,
    ADMIN_TOKEN: demo.ADMIN_TOKEN,
    SIGNING_SECRET: demo.SIGNING_SECRET,
    DEV_ALLOW_LOCAL_URLS: "true",
    // Uploads (docs/uploads.md): the local R2 bucket by default, so file URLs are the gateway's own signed
    // ones; FILES_BACKEND=evolink sends them to the simulator's files API (or EvoLink's, with a real key).
    FILES_BACKEND: process.env.FILES_BACKEND ?? "r2",
    FILES_BASE_URL:
      process.env.FILES_BASE_URL ??
      (realUpstream ? "https://files-api.evolink.ai" : `http://127.0.0.1:${demo.SIM_PORT}`),
    // Webhook retries in seconds rather than hours (7 entries: max_retries in wrangler.jsonc).
    WEBHOOK_RETRY_SCHEDULE: "1,2,4,8,15,30,60",
    ...(process.env.EXTRA_VARS
      ? Object.fromEntries(process.env.EXTRA_VARS.split(",").map((kv) => kv.split("=")))
      : {}),
  }),
]);

try {
  await waitFor(`${demo.GATEWAY_URL}/healthz`, "gateway");
  const res = await fetch(`${demo.GATEWAY_URL}/admin/tenants/${demo.DEMO_TENANT_ID}`, {
    method: "PUT",
    headers: { authorization: `Bearer ${demo.ADMIN_TOKEN}`, "content-type": "application/json" },
    body: JSON.stringify({
      name: "Demo tenant",
      auth: { issuer: demo.DEMO_ISSUER, audience: demo.DEMO_AUDIENCE, hs256_secret: demo.DEMO_HS256_SECRET },
      quotas: {
        requests_per_minute: 60,
        max_concurrent_tasks: 5,
        monthly_credits: 5000,
        max_files: 200,
        monthly_upload_bytes: 5 * 1024 ** 3,
      },
      user_quotas: {
        requests_per_minute: 20,
        max_concurrent_tasks: 3,
        monthly_credits: 1000,
        max_files: 50,
        monthly_upload_bytes: 1024 ** 3,
      },
      webhook: { url: `http://127.0.0.1:${demo.RECEIVER_PORT}/webhook`, secret: demo.DEMO_WEBHOOK_SECRET },
    }),
  });
  if (!res.ok) throw new Error(`creating the demo tenant failed: ${res.status} ${await res.text()}`);
  console.log(`
[start] reelgate is up at ${demo.GATEWAY_URL} (upstream: ${realUpstream ? "EvoLink" : `simulator on :${demo.SIM_PORT}`})
[start] demo tenant "${demo.DEMO_TENANT_ID}" ready.  Try:
  TOKEN=$(npm run --silent token)
  curl -s ${demo.GATEWAY_URL}/v1/videos/generations -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d '{"model":"wan2.6-reference-video-flash","prompt":"A person dancing","video_urls":["https://example.com/ref.mp4"]}'

[start] The mobile path (docs/uploads.md): upload a local video, then use its file_url:
  FILE_URL=$(curl -s ${demo.GATEWAY_URL}/api/v1/files/upload/stream -H "authorization: Bearer $TOKEN" \\
    -F file=@demo/reference.mp4 | node -pe 'JSON.parse(require("fs").readFileSync(0)).data.file_url')
  curl -s ${demo.GATEWAY_URL}/v1/videos/generations -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \\
    -d "{\\\"model\\\":\\\"wan2.6-reference-video-flash\\\",\\\"prompt\\\":\\\"A person dancing\\\",\\\"video_urls\\\":[\\\"$FILE_URL\\\"]}"
`);
} catch (err) {
  console.error(`[start] ${err.message}`);
  shutdown(1);
}
