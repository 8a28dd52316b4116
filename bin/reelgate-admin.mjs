#!/usr/bin/env node
// `npm run admin -- <command>` / the `reelgate-admin` bin: the operator's command line for the admin API.
// Plain Node ESM (Node 20+, no build); the commands and their rendering live in ./lib/cli.mjs.
import { readFile } from "node:fs/promises";
import { run } from "./lib/cli.mjs";

const code = await run(process.argv.slice(2), {
  fetch: (url, init) => fetch(url, { ...init, signal: AbortSignal.timeout(30_000) }),
  env: process.env,
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  readFile: (path) => readFile(path, "utf8"),
});
process.exitCode = code;
