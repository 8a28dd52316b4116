#!/usr/bin/env node
// `npm run size`: builds the Worker exactly as `wrangler deploy` would (dry run, no account needed) and
// reports its raw and gzip size, with the packages and folders that take the most room. `--check` (what
// `npm run size:check` and CI run) fails when the gzip size is over bench/size-budget.json, or the budget
// itself is over the 100 KiB hard cap.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";

const HARD_CAP_KIB = 100;
// No telemetry and no request.cf download: the run must work offline, the same everywhere.
process.env.WRANGLER_SEND_METRICS ??= "false";
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= "false";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const outdir = join(root, ".wrangler", "size-build");
const metafile = join(outdir, "bundle-meta.json");
const check = process.argv.includes("--check");

rmSync(outdir, { recursive: true, force: true });
const build = spawnSync("wrangler", ["deploy", "--dry-run", "--outdir", outdir, "--metafile", metafile], {
  cwd: root,
  encoding: "utf8",
  env: process.env,
});
if (build.status !== 0) {
  console.error(`[size] wrangler deploy --dry-run failed:\n${build.stdout}\n${build.stderr}`);
  process.exit(1);
}

// Every module that would be uploaded (source maps and the README wrangler writes are not).
const modules = readdirSync(outdir).filter(
  (f) => !f.endsWith(".map") && !f.endsWith(".md") && f !== "bundle-meta.json",
);
let raw = 0;
let gzip = 0;
for (const f of modules) {
  const bytes = readFileSync(join(outdir, f));
  raw += statSync(join(outdir, f)).size;
  gzip += gzipSync(bytes).length;
}

const kib = (n) => n / 1024;
const budget = JSON.parse(readFileSync(join(root, "bench", "size-budget.json"), "utf8"));
console.log(`[size] ${modules.join(", ")}: ${kib(raw).toFixed(1)} KiB raw, ${kib(gzip).toFixed(1)} KiB gzip`);
console.log(
  `[size] budget ${budget.gzip_kib} KiB gzip (hard cap ${HARD_CAP_KIB} KiB): ${(budget.gzip_kib - kib(gzip)).toFixed(1)} KiB headroom`,
);
console.log(`[size] largest parts of the bundle (raw bytes in the output):\n${largestParts(8)}`);

if (check) {
  const problems = [];
  if (budget.gzip_kib > HARD_CAP_KIB)
    problems.push(`the budget (${budget.gzip_kib} KiB) is over the hard cap`);
  if (kib(gzip) > budget.gzip_kib) problems.push(`${kib(gzip).toFixed(1)} KiB gzip is over the budget`);
  if (problems.length) {
    console.error(`[size] FAIL: ${problems.join("; ")} (bench/size-budget.json, docs/performance.md)`);
    process.exit(1);
  }
  console.log("[size] within budget");
}

/** The output bytes per npm package or per src/ folder, largest first. */
function largestParts(n) {
  const meta = JSON.parse(readFileSync(metafile, "utf8"));
  const parts = new Map();
  for (const output of Object.values(meta.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs ?? {})) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1];
      const part = pkg ?? input.split("/").slice(0, 2).join("/");
      parts.set(part, (parts.get(part) ?? 0) + bytesInOutput);
    }
  }
  return [...parts]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([part, bytes]) => `  ${part.padEnd(20)} ${kib(bytes).toFixed(1).padStart(7)} KiB`)
    .join("\n");
}
