// The Portkey AI Gateway (`@portkey-ai/gateway`) as a comparison target for `npm run bench`: the same two
// upstream calls through Portkey's generic proxy route (`/v1/*` with `x-portkey-provider` and
// `x-portkey-custom-host`), forwarded to the same simulator. Two ways to run it:
//
// - on Node, as `npx @portkey-ai/gateway` does: `build/start-server.js` of an npm install, one Node process
//   (no `wrangler dev` in front of it, unlike the Workers);
// - on workerd, as its repository deploys it to Cloudflare: its source built with this project's wrangler
//   (`wrangler deploy --dry-run --minify`, its own wrangler.toml) and served with `wrangler dev --no-bundle`
//   exactly like the passthrough and the gateway. This is the like-for-like comparison (same runtime, same
//   `wrangler dev` entry proxy in front).
//
// Both are optional (`--portkey-git`/`--portkey-src`, `--portkey-node`); without them nothing here runs.
import { execFileSync, spawn, spawnSync } from "node:child_process";
import { closeSync, cpSync, existsSync, mkdirSync, openSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";

/** The Portkey release compared against: its source tag and its npm version. */
export const PORTKEY_TAG = "v1.15.2";

/**
 * Portkey's source at `tag`, from `gitDir` (a clone or bare git dir of Portkey-AI/gateway), extracted into
 * `into` with its runtime dependencies from its own lockfile (once: an existing `into/node_modules` is kept).
 * Returns `into`, ready for buildPortkeyWorker.
 */
export function preparePortkeySource(gitDir, tag, into) {
  if (existsSync(join(into, "node_modules"))) return into;
  mkdirSync(into, { recursive: true });
  const files = ["src", "plugins", "package.json", "package-lock.json", "wrangler.toml", "conf.json"];
  const archive = ["-C", gitDir, "archive", tag, "--", ...files, "patches", "tsconfig.json"];
  const tar = execFileSync("git", archive, { maxBuffer: 1 << 30 });
  execFileSync("tar", ["-C", into, "-xf", "-"], { input: tar });
  const npm = (args) => execFileSync("npm", args, { cwd: into, stdio: ["ignore", "ignore", "inherit"] });
  npm(["ci", "--omit=dev", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"]);
  // Its postinstall (patch-package) patches async-retry; its @types patch has nothing to patch here.
  spawnSync("npx", ["--no-install", "patch-package"], { cwd: into, stdio: "ignore" });
  return into;
}

/**
 * `@portkey-ai/gateway` for Node installed into `into` from bench/portkey-node/package{,-lock}.json (once).
 * The lockfile holds @hono/node-server at 1.13.5, what Portkey's own lockfile pins: with the 1.19.x npm
 * resolves today every proxied 200 fails with "TypeError: immutable" (Portkey-AI/gateway#1389).
 */
export function preparePortkeyNode(packageDir, into) {
  if (existsSync(join(into, "node_modules", "@portkey-ai", "gateway"))) return into;
  mkdirSync(into, { recursive: true });
  for (const f of ["package.json", "package-lock.json"]) cpSync(join(packageDir, f), join(into, f));
  execFileSync("npm", ["ci", "--no-audit", "--no-fund", "--loglevel=error"], {
    cwd: into,
    stdio: ["ignore", "ignore", "inherit"],
  });
  return into;
}

/** The headers Portkey's proxy route needs to forward a call to `simUrl` with the upstream key `key`. */
export function portkeyHeaders(simUrl, key) {
  return {
    "x-portkey-provider": "openai",
    // The provider's base URL is replaced by this one; the path after /v1 is appended as it came.
    "x-portkey-custom-host": `${simUrl}/v1`,
    // Portkey reads the provider key from Authorization and also forwards the header as it is.
    authorization: `Bearer ${key}`,
  };
}

/**
 * Starts Portkey's Node server (`<dir>/node_modules/@portkey-ai/gateway/build/start-server.js`) with the
 * Node binary `node` on 127.0.0.1:`port`. Its output goes straight to `logFile` (not through this process,
 * which also runs the load generator: Portkey logs an error stack per proxied GET). `preload` forces the
 * listening address to 127.0.0.1 (Portkey passes no host, so Node would listen on every interface).
 * Returns a handle shaped like startWorker's.
 */
export function startPortkeyNode({ name, dir, node, port, env, logFile, preload }) {
  const script = join(dir, "node_modules", "@portkey-ai", "gateway", "build", "start-server.js");
  const args = ["--import", pathToFileURL(preload).href, script, `--port=${port}`];
  const fd = openSync(logFile, "w");
  const child = spawn(node, args, {
    cwd: dir,
    detached: true,
    stdio: ["ignore", fd, fd],
    env: { ...process.env, ...env },
  });
  closeSync(fd);
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code ?? 1)));
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    inspectorPort: null,
    pid: child.pid,
    logFile,
    exited,
    stop: (signal = "SIGTERM") => {
      try {
        process.kill(-child.pid, signal);
      } catch {
        // already gone
      }
    },
  };
}

/** Builds Portkey's Worker from its source tree as its `npm run deploy` would (minified); returns the entry. */
export function buildPortkeyWorker(srcDir, outdir) {
  const config = join(srcDir, "wrangler.toml");
  const r = spawnSync(
    "wrangler",
    ["deploy", "--dry-run", "--minify", "-c", config, "--env", "", "--outdir", outdir],
    { encoding: "utf8", env: process.env },
  );
  if (r.status !== 0) throw new Error(`building Portkey's Worker failed:\n${r.stdout}\n${r.stderr}`);
  const entry = readdirSync(outdir).find((f) => f.endsWith(".js"));
  if (!entry) throw new Error(`building Portkey's Worker emitted no .js file in ${outdir}`);
  return { config, script: join(outdir, entry) };
}

/**
 * Before anything is measured: one POST and one GET through `w` (a Portkey target) must answer 200, and the
 * simulator must have recorded exactly those two calls (so Portkey really forwarded them, with the key: the
 * simulator answers 401 without it). Returns what was seen, for the run's record. Uses node:http without an
 * Accept-Encoding of its own, like autocannon.
 */
export async function checkReachesSim({ w, simUrl, headers, body, createPath }) {
  await request(`${simUrl}/__sim/reset`, { method: "POST" });
  const post = await request(w.url + createPath, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });
  if (post.status !== 200)
    throw new Error(`${w.name}: POST ${createPath} answered ${post.status}: ${post.text.slice(0, 300)}`);
  const id = JSON.parse(post.text).id;
  const get = await request(`${w.url}/v1/tasks/${id}`, { method: "GET", headers });
  if (get.status !== 200)
    throw new Error(`${w.name}: GET /v1/tasks/{id} answered ${get.status}: ${get.text.slice(0, 300)}`);
  const seen = JSON.parse((await request(`${simUrl}/__sim/requests`, { method: "GET" })).text);
  const calls = seen.map((r) => `${r.method} ${r.path}`);
  const expected = [`POST ${createPath}`, `GET /v1/tasks/${id}`];
  if (JSON.stringify(calls) !== JSON.stringify(expected))
    throw new Error(
      `${w.name}: the simulator saw ${JSON.stringify(calls)}, expected ${JSON.stringify(expected)}`,
    );
  const detail = JSON.parse(get.text);
  if (detail.id !== id) throw new Error(`${w.name}: GET answered task ${detail.id}, expected ${id}`);
  return {
    target: w.name,
    post_status: post.status,
    get_status: get.status,
    sim_saw: calls.map((c, i) => ({
      call: c.replace(id, "{id}"),
      authorization: seen[i].headers.authorization ?? null,
      accept_encoding: seen[i].headers["accept-encoding"] ?? null,
    })),
    client_got: {
      post_content_encoding: post.headers["content-encoding"] ?? null,
      get_content_encoding: get.headers["content-encoding"] ?? null,
    },
  };
}

async function request(url, { method, headers = {}, body }) {
  const { request: httpRequest } = await import("node:http");
  return new Promise((resolve, reject) => {
    // A Content-Length, as autocannon sends (without one Node would send the body chunked, and Portkey on
    // Node forwards Transfer-Encoding to undici, which refuses it).
    if (body) headers = { ...headers, "content-length": String(Buffer.byteLength(body)) };
    const req = httpRequest(url, { method, headers, timeout: 10_000 }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", async () => {
        let buf = Buffer.concat(chunks);
        const enc = res.headers["content-encoding"];
        // Decoded here only to read the JSON; what the client got is reported as it came.
        const zlib = await import("node:zlib");
        if (enc === "br") buf = zlib.brotliDecompressSync(buf);
        else if (enc === "gzip") buf = zlib.gunzipSync(buf);
        resolve({ status: res.statusCode, headers: res.headers, text: buf.toString("utf8") });
      });
    });
    req.on("timeout", () => req.destroy(new Error(`${method} ${url}: timed out`)));
    req.on("error", reject);
    if (body) req.write(body);
    req.end();
  });
}
