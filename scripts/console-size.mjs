#!/usr/bin/env node
// `npm run size:console`: the gzip size of the operator's console as served (public/console, built by
// `npm run build:assets`), with `--check` failing over bench/size-budget.json's `console_gzip_kib`. The
// console is static assets, so it costs the Worker's own budget (scripts/size.mjs) nothing. The tenant portal's
// page assets (public/portal-assets) are checked the same way against `portal_gzip_kib`.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const budgets = JSON.parse(readFileSync(join(root, "bench", "size-budget.json"), "utf8"));
let failed = false;
// The console, and the tenant portal's page assets (public/portal-assets), each against its own budget.
for (const [name, folder, key] of [
  ["console", "console", "console_gzip_kib"],
  ["portal", "portal-assets", "portal_gzip_kib"],
]) {
  const dir = join(root, "public", folder);
  if (!existsSync(join(dir, "app.js"))) {
    console.error(`[size:console] public/${folder}/app.js is missing: run \`npm run build:assets\` first`);
    process.exit(1);
  }
  const budget = budgets[key];
  let raw = 0;
  let gzip = 0;
  for (const f of readdirSync(dir)) {
    const bytes = readFileSync(join(dir, f));
    raw += bytes.length;
    gzip += gzipSync(bytes).length;
    console.log(
      `[size:console] ${name}/${f.padEnd(12)} ${(bytes.length / 1024).toFixed(1).padStart(6)} KiB raw`,
    );
  }
  console.log(
    `[size:console] ${name} total ${(raw / 1024).toFixed(1)} KiB raw, ${(gzip / 1024).toFixed(1)} KiB gzip (budget ${budget} KiB)`,
  );
  if (process.argv.includes("--check") && !(gzip / 1024 <= budget)) {
    console.error(`[size:console] FAIL: ${name} is over its budget (bench/size-budget.json ${key})`);
    failed = true;
  }
}
if (failed) process.exit(1);
