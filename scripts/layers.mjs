#!/usr/bin/env node
// `npm run layers` (a step of `npm test`): holds src/ to the layer table at the top of docs/architecture.md.
// Each folder of src/ (and each file directly in it) has a layer; a file may import from its own folder and
// from lower layers only, so the folders form no circle and no arrow runs back up. A folder or file missing
// from the table, or an import that breaks it, fails with the file, the line and the two layers.
// `--self-test` checks the checker on a made-up tree: an upward import, a same-layer import and an unknown folder.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/** `| 3 | \`upstream/\` \`x.ts\` | …` rows between the `layers` markers → { "upstream": 3, "x.ts": 3 }. */
export function parseLayers(markdown) {
  const block = /<!-- layers -->([\s\S]*?)<!-- \/layers -->/.exec(markdown);
  if (!block) throw new Error("docs/architecture.md has no <!-- layers --> table");
  const layers = new Map();
  for (const row of block[1].split("\n")) {
    const m = /^\|\s*(\d+)\s*\|([^|]*)\|/.exec(row);
    if (!m) continue;
    for (const name of m[2].matchAll(/`([^`]+)`/g)) layers.set(name[1].replace(/\/$/, ""), Number(m[1]));
  }
  return layers;
}

/** The room a path under src/ belongs to: its top folder, or the file itself when it lies in src/. */
const roomOf = (rel) => rel.split("/")[0];

/** files: Map<path relative to src, source text>. Returns the broken rules as sentences. */
export function check(files, layers) {
  const problems = [];
  for (const room of new Set([...files.keys()].map(roomOf))) {
    if (!layers.has(room)) problems.push(`${room}: not in the layer table of docs/architecture.md`);
  }
  for (const [file, text] of files) {
    const from = roomOf(file);
    const lines = text.split("\n");
    lines.forEach((line, i) => {
      for (const m of line.matchAll(/(?:from|import)\s*\(?\s*["'](\.{1,2}\/[^"']+)["']/g)) {
        const target = relative("/src", resolve("/src", dirname(file), m[1]));
        if (target.startsWith("..")) continue;
        const to = roomOf(target.includes("/") ? target : `${target}.ts`);
        if (to === from || !layers.has(from) || !layers.has(to)) continue;
        if (layers.get(to) >= layers.get(from))
          problems.push(
            `src/${file}:${i + 1} imports ${m[1]}: ${to} (layer ${layers.get(to)}) is not below ${from} (layer ${layers.get(from)})`,
          );
      }
    });
  }
  return problems;
}

function readSrc() {
  const files = new Map();
  (function walk(dir) {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.tsx?$/.test(name) && !name.endsWith(".d.ts"))
        files.set(relative(join(root, "src"), path), readFileSync(path, "utf8"));
    }
  })(join(root, "src"));
  return files;
}

function selfTest() {
  const layers = parseLayers("<!-- layers -->\n| 2 | `app.ts` `b/` |\n| 1 | `a/` `c/` |\n<!-- /layers -->");
  const found = check(
    new Map([
      ["app.ts", 'import { x } from "./a/x";'],
      ["a/x.ts", 'import { y } from "../b/y";\nimport { z } from "./z";'],
      ["a/z.ts", 'import type { w } from "../c/w";'],
      ["c/w.ts", "export const w = 1;"],
      ["b/y.ts", 'const m = await import("../d/m");'],
      ["d/m.ts", "export {};"],
    ]),
    layers,
  );
  const expected = [
    /^d: not in the layer table/,
    /a\/x\.ts:1 .* b \(layer 2\) is not below a \(layer 1\)/,
    /a\/z\.ts:1 .* c \(layer 1\) is not below a \(layer 1\)/,
  ];
  const ok = found.length === expected.length && expected.every((re) => found.some((p) => re.test(p)));
  console.log(
    ok
      ? "[layers] self-test: the checker finds each broken rule"
      : `[layers] self-test FAILED:\n${found.join("\n")}`,
  );
  return ok;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  if (!selfTest()) process.exit(1);
  const layers = parseLayers(readFileSync(join(root, "docs/architecture.md"), "utf8"));
  const files = readSrc();
  const problems = check(files, layers);
  if (problems.length) {
    console.error(
      `[layers] ${problems.length} import(s) break docs/architecture.md's layers:\n  ${problems.join("\n  ")}`,
    );
    process.exit(1);
  }
  console.log(
    `[layers] src/: ${new Set([...files.keys()].map(roomOf)).size} folders and files over ${new Set(layers.values()).size} layers, every import downwards`,
  );
}
