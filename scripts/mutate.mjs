#!/usr/bin/env node
// `npm run mutate` (not part of `npm test`): a small mutation audit of the security and money code. Each
// mutant is one deliberate bug — a text replacement that must match exactly once — applied alone; the tests
// named with it run, and a mutant they do not catch "survives". The source is restored after each mutant,
// and on Ctrl-C. Exits 1 when a mutant survives or no longer applies (the code moved: update its text).
//   npm run mutate                 every mutant
//   npm run mutate -- ownership    the mutants whose name contains "ownership"
import { spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { MUTANTS } from "./mutants.mjs";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const chosen = MUTANTS.filter((m) => only.length === 0 || only.some((o) => m.name.includes(o)));

let restore = null;
for (const signal of ["SIGINT", "SIGTERM"])
  process.on(signal, () => {
    restore?.();
    process.exit(130);
  });

const results = [];
for (const m of chosen) {
  // A mutant is one edit, or several that together make one bug (two guards of one rule).
  const edits = m.edits ?? [{ file: m.file, from: m.from, to: m.to }];
  const originals = edits.map((e) => [join(root, e.file), readFileSync(join(root, e.file), "utf8")]);
  const stale = edits.find((e, i) => originals[i][1].split(e.from).length - 1 !== 1);
  if (stale) {
    const count = readFileSync(join(root, stale.file), "utf8").split(stale.from).length - 1;
    results.push({ name: m.name, verdict: `STALE (its text occurs ${count} times in ${stale.file})` });
    console.log(`[mutate] STALE    ${m.name}`);
    continue;
  }
  restore = () => {
    for (const [path, text] of originals) writeFileSync(path, text);
  };
  for (const e of edits) {
    const path = join(root, e.file);
    writeFileSync(path, readFileSync(path, "utf8").replace(e.from, e.to));
  }
  const started = Date.now();
  try {
    const run = spawnSync("vitest", ["run", "--reporter=dot", ...m.tests], {
      cwd: root,
      encoding: "utf8",
      timeout: 600_000,
      env: { ...process.env, WRANGLER_SEND_METRICS: "false", CLOUDFLARE_CF_FETCH_ENABLED: "false" },
    });
    const seconds = Math.round((Date.now() - started) / 1000);
    results.push({ name: m.name, verdict: run.status === 0 ? "SURVIVED" : "killed", seconds });
  } finally {
    restore();
    restore = null;
  }
  const last = results.at(-1);
  console.log(`[mutate] ${last.verdict.padEnd(8)} ${m.name} (${last.seconds ?? 0} s)`);
}

const bad = results.filter((r) => r.verdict !== "killed");
console.log(
  `\n[mutate] ${results.length - bad.length} of ${results.length} mutants killed` +
    (bad.length ? `; not killed:\n  ${bad.map((r) => `${r.name}: ${r.verdict}`).join("\n  ")}` : ""),
);
process.exit(bad.length ? 1 : 0);
