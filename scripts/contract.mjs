// Loads the upstream's OpenAPI files from ../shared/upstream (never copied into this repository).
// Returns null when the folder is absent, so callers can say they skipped.
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

export function upstreamContractDir() {
  return process.env.UPSTREAM_CONTRACT_DIR ?? resolve(root, "..", "shared", "upstream");
}

/** { "<file name>": <parsed OpenAPI document>, ... } or null. */
export function loadUpstreamContract() {
  const dir = upstreamContractDir();
  if (!existsSync(dir)) return null;
  const docs = {};
  for (const sub of ["", "files"]) {
    const d = join(dir, sub);
    if (!existsSync(d)) continue;
    for (const f of readdirSync(d)) {
      if (f.endsWith(".json")) docs[sub ? `${sub}/${f}` : f] = JSON.parse(readFileSync(join(d, f), "utf8"));
    }
  }
  return docs;
}
