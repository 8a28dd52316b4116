#!/usr/bin/env node
// Builds the Worker's static assets into public/ (gitignored): each scripts/assets/*.mjs step exports
// `build({ root, out })` and writes only its own folder under public/. Run before wrangler dev, deploy and tests.
import { mkdirSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const out = join(root, "public");
mkdirSync(out, { recursive: true });
const steps = join(root, "scripts", "assets");
for (const file of readdirSync(steps)
  .filter((f) => f.endsWith(".mjs"))
  .sort()) {
  const step = await import(pathToFileURL(join(steps, file)).href);
  await step.build({ root, out });
}
