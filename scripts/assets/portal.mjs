// Asset step (scripts/build-assets.mjs): bundles the tenant portal's page script (portal/, Preact + htm +
// uPlot and the console's shared pieces) with esbuild into public/portal-assets/ — app.js, app.css. Its HTML
// is served by the Worker (src/portal/page.ts), so that its headers are the tenant's own.
import { build as esbuild } from "esbuild";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";

export async function build({ root, out }) {
  const dir = join(out, "portal-assets");
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  await esbuild({
    entryPoints: { app: join(root, "portal", "main.js") },
    bundle: true,
    minify: true,
    format: "esm",
    target: "es2022",
    outdir: dir,
    legalComments: "none",
    logLevel: "warning",
  });
}
