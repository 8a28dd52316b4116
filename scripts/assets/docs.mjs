// The interactive API reference at /docs (Swagger UI from the swagger-ui-dist package, copied here, so the
// page loads nothing from any other origin) and the OpenAPI documents: public/openapi.json (the tenant API,
// public) and public/admin/openapi.json (served only through the Worker, after the admin token:
// wrangler.jsonc runs the Worker first for /admin/*). The documents come from openapi/ (npm run openapi).
import { copyFileSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

const UI_FILES = ["swagger-ui.css", "swagger-ui-bundle.js", "favicon-32x32.png"];

const INDEX_HTML = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <meta name="viewport" content="width=device-width, initial-scale=1" />
    <title>reelgate API reference</title>
    <link rel="icon" type="image/png" href="/docs/favicon-32x32.png" />
    <link rel="stylesheet" href="/docs/swagger-ui.css" />
  </head>
  <body>
    <div id="reference"></div>
    <script src="/docs/swagger-ui-bundle.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

// validatorUrl: null — Swagger UI would otherwise ask validator.swagger.io for a badge.
const INIT_JS = `window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#reference",
    validatorUrl: null,
    deepLinking: true,
    tryItOutEnabled: false,
    persistAuthorization: false,
  });
});
`;

export function build({ root, out }) {
  const require = createRequire(join(root, "package.json"));
  const ui = dirname(require.resolve("swagger-ui-dist/package.json"));
  const docs = join(out, "docs");
  mkdirSync(docs, { recursive: true });
  for (const file of UI_FILES) copyFileSync(join(ui, file), join(docs, file));
  writeFileSync(join(docs, "index.html"), INDEX_HTML);
  writeFileSync(join(docs, "init.js"), INIT_JS);
  copyFileSync(join(root, "openapi", "tenant.json"), join(out, "openapi.json"));
  mkdirSync(join(out, "admin"), { recursive: true });
  copyFileSync(join(root, "openapi", "admin.json"), join(out, "admin", "openapi.json"));
}
