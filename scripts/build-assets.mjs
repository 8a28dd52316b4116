#!/usr/bin/env node
// Builds the Worker's static assets into public/ (gitignored): each scripts/assets/*.mjs step exports
// `build({ root, out })` and writes only its own folder under public/. Run by wrangler itself before
// `wrangler dev`, `deploy` and `versions upload` (build.command in wrangler.jsonc), and by vitest before the
// test suite (its globalSetup: this module's default export), so a fresh clone needs no step of its own.
import { mkdirSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export default async function buildAssets() {
  const out = join(root, "public");
  mkdirSync(out, { recursive: true });
  const steps = join(root, "scripts", "assets");
  for (const file of readdirSync(steps)
    .filter((f) => f.endsWith(".mjs"))
    .sort()) {
    const step = await import(pathToFileURL(join(steps, file)).href);
    await step.build({ root, out });
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await buildAssets();
