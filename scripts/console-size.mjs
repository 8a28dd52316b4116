#!/usr/bin/env node
// `npm run size:console`: the gzip size of the operator's console as served (public/console, built by
// `npm run build:assets`), with `--check` failing over bench/size-budget.json's `console_gzip_kib`. The
// console is static assets, so it costs the Worker's own budget (scripts/size.mjs) nothing.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const dir = join(root, "public", "console");
if (!existsSync(join(dir, "app.js"))) {
  console.error("[size:console] public/console/app.js is missing: run `npm run build:assets` first");
  process.exit(1);
}
const budget = JSON.parse(readFileSync(join(root, "bench", "size-budget.json"), "utf8")).console_gzip_kib;
let raw = 0;
let gzip = 0;
for (const f of readdirSync(dir)) {
  const bytes = readFileSync(join(dir, f));
  raw += bytes.length;
  gzip += gzipSync(bytes).length;
  console.log(`[size:console] ${f.padEnd(12)} ${(bytes.length / 1024).toFixed(1).padStart(6)} KiB raw`);
}
console.log(
  `[size:console] total ${(raw / 1024).toFixed(1)} KiB raw, ${(gzip / 1024).toFixed(1)} KiB gzip (budget ${budget} KiB)`,
);
if (process.argv.includes("--check") && !(gzip / 1024 <= budget)) {
  console.error(`[size:console] FAIL: over the console budget (bench/size-budget.json console_gzip_kib)`);
  process.exit(1);
}
