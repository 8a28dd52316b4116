#!/usr/bin/env node
// Entry point of `npm start` / `npm test` on a fresh machine: installs dependencies when they are missing
// or stale (the lockfile changed), then runs the named npm script, so that node_modules/.bin (with the
// Node 22 binary from the `node` package, which wrangler needs) comes first on PATH. Runs on Node 20.
import { spawnSync } from "node:child_process";
import { existsSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const [script, ...args] = process.argv.slice(2);
if (!script) {
  console.error("usage: node scripts/run.mjs <npm script> [args...]");
  process.exit(2);
}

const marker = join(root, "node_modules", ".package-lock.json");
const lock = join(root, "package-lock.json");
const stale = !existsSync(marker) || (existsSync(lock) && statSync(lock).mtimeMs > statSync(marker).mtimeMs);
const npm = process.platform === "win32" ? "npm.cmd" : "npm";
if (stale) {
  console.log("[reelgate] installing dependencies (npm ci)…");
  const r = spawnSync(npm, [existsSync(lock) ? "ci" : "install", "--no-audit", "--no-fund"], {
    cwd: root,
    stdio: "inherit",
  });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

const env = { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" };
const r = spawnSync(npm, ["run", "--silent", script, ...(args.length ? ["--", ...args] : [])], {
  cwd: root,
  stdio: "inherit",
  env,
});
process.exit(r.status ?? 1);
