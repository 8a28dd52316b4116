// Asset step (scripts/build-assets.mjs): bundles the tenant portal's page script (portal/, Preact + htm +
// uPlot and the console's shared pieces) with esbuild into public/portal-assets/ — app.js, app.css. Its HTML
// is served by the Worker (src/portal/page.ts), so that its headers are the tenant's own.
import { join } from "node:path";
import { bundleApp } from "./console.mjs";

export async function build({ root, out }) {
  await bundleApp(join(root, "portal", "main.js"), join(out, "portal-assets"));
}
