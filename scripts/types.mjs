#!/usr/bin/env node
// `Env` is generated, never written by hand: `npm run types:generate` writes src/worker-configuration.d.ts
// from wrangler.jsonc with `wrangler types`; `--check` (a step of `npm test`) fails when the committed file
// differs in any byte from what wrangler.jsonc generates now — drift in the config, or a hand edit (which
// `wrangler types --check` alone, comparing only the header's hash, would not catch).
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = "src/worker-configuration.d.ts";
const file = join(root, OUT);
const check = process.argv.includes("--check");

// --env-file /dev/null: the secrets are declared in src/worker-env.d.ts, so a developer's own .dev.vars or
// .env never leaks its names into the generated file, and the output is the same on every machine.
const ARGS = ["types", OUT, "--include-runtime=false", "--strict-vars=false", "--env-file", "/dev/null"];

function generate() {
  const r = spawnSync("wrangler", ARGS, {
    cwd: root,
    encoding: "utf8",
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
  });
  if (r.status !== 0) {
    process.stderr.write(r.stdout + r.stderr);
    process.exit(1);
  }
}

if (!check) {
  generate();
  console.log(`[types] ${OUT} generated from wrangler.jsonc`);
  process.exit(0);
}

let committed;
try {
  committed = readFileSync(file, "utf8");
} catch {
  console.error(`[types] ${OUT} is missing: run \`npm run types:generate\` and commit it`);
  process.exit(1);
}
generate();
const fresh = readFileSync(file, "utf8");
if (fresh === committed) {
  console.log(`[types] ${OUT} matches wrangler.jsonc`);
  process.exit(0);
}
writeFileSync(file, committed); // leave the tree as it was
const a = committed.split("\n");
const b = fresh.split("\n");
const line = a.findIndex((l, i) => l !== b[i]);
console.error(
  `[types] ${OUT} does not match wrangler.jsonc (first difference at line ${line + 1}):\n` +
    `  committed: ${a[line] ?? "(end of file)"}\n  generated: ${b[line] ?? "(end of file)"}\n` +
    "Run `npm run types:generate` and commit the result; never edit the file by hand.",
);
process.exit(1);
