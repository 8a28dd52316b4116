// Asset step (scripts/build-assets.mjs): bundles the operator's console (console/, Preact + htm + uPlot)
// with esbuild into public/console/ — index.html, app.js, app.css — minified, no CDN, no source maps.
import { build as esbuild } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

export async function build({ root, out }) {
  const dir = join(out, "console");
  await bundleApp(join(root, "console", "main.js"), dir);
  copyFileSync(join(root, "console", "index.html"), join(dir, "index.html"));
}

/** A page's script and styles (`entry` and what it imports) into `dir` as app.js and app.css, afresh. */
export async function bundleApp(entry, dir) {
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await esbuild({
    entryPoints: { app: entry },
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    outdir: dir,
    legalComments: "none",
    logLevel: "warning",
  });
}
