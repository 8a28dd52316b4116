#!/usr/bin/env node
// `npm test`: every check CI runs, in order — format, types, the workerd test suite, the console in headless
// Chromium (scripts/browser-test.mjs) — ending with one
// plain summary line ("N passed, N failed, N skipped") that CI reads. Stops at the first failing step.
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { loadUpstreamContract, upstreamContractDir } from "./contract.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const report = join(root, ".wrangler", "vitest-report.json");
mkdirSync(dirname(report), { recursive: true });
// The console's browser test (scripts/browser-test.mjs) writes its counts here; they join the summary line.
const browserReport = join(root, ".wrangler", "browser-report.json");
rmSync(browserReport, { force: true });

const steps = [
  ["assets", ["node", "scripts/build-assets.mjs"]],
  ["format", ["prettier", "--check", "--log-level", "warn", "."]],
  ["types", ["tsc", "--noEmit", "-p", "tsconfig.json"]],
  ["tests", ["vitest", "run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`]],
  ["browser", ["node", "scripts/browser-test.mjs"]],
  ...(process.env.SKIP_EXTRA_CHECKS ? [] : extraSteps()),
];

function extraSteps() {
  const out = [];
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
  if (pkg.scripts?.["size:check"]) out.push(["bundle size", ["npm", "run", "--silent", "size:check"]]);
  if (pkg.scripts?.["size:console"]) out.push(["console size", ["npm", "run", "--silent", "size:console"]]);
  if (pkg.scripts?.["bench:smoke"]) out.push(["benchmark smoke", ["npm", "run", "--silent", "bench:smoke"]]);
  return out;
}

if (loadUpstreamContract() === null) {
  console.log(`[check] ${upstreamContractDir()} not found: the upstream contract tests are skipped`);
}

let failed = false;
for (const [name, [cmd, ...args]] of steps) {
  console.log(`\n[check] ${name}: ${[cmd, ...args].join(" ")}`);
  const r = spawnSync(cmd, args, { cwd: root, stdio: "inherit", env: process.env });
  if (r.status !== 0) {
    console.error(`[check] ${name} failed`);
    failed = true;
    if (name !== "tests" && name !== "browser") break;
  }
}

if (existsSync(report)) {
  const j = JSON.parse(readFileSync(report, "utf8"));
  const skipped = (j.numPendingTests ?? 0) + (j.numTodoTests ?? 0);
  const b = existsSync(browserReport)
    ? JSON.parse(readFileSync(browserReport, "utf8"))
    : { passed: 0, failed: 0, skipped: 0 };
  console.log(
    `\n${j.numPassedTests + b.passed} passed, ${j.numFailedTests + b.failed} failed, ${skipped + b.skipped} skipped`,
  );
}
process.exit(failed ? 1 : 0);
