#!/usr/bin/env node
// `npm run test:browser` (a step of `npm test`): the operator's console in headless Chromium (Debian's
// `chromium`, driven by playwright-core) against the real gateway under `wrangler dev`, with the upstream
// simulator and a local webhook receiver, all on free random ports. It runs the flow of docs/console.md —
// create a tenant through the form (field error for a bad issuer first), find it in the list, generate
// tasks and see the usage chart draw them and their kept results' storage (and its CSV), fail a webhook
// delivery and redeliver it from the page, rotate the secret (shown once, copied), suspend/resume, delete a
// task and a tenant — and runs the real `reelgate-admin` binary.
// Screenshots go to artifacts/console/. Ends with "browser: N passed, N failed, N skipped" and writes
// .wrangler/browser-report.json for scripts/check.mjs.
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { SignJWT } from "jose";
import { chromium } from "playwright-core";
import { freePorts } from "../bench/lib/processes.mjs";
import { assert, openRun, root, startReceiver, startStack, until } from "./lib/browser-run.mjs";

const run = openRun("browser", "console");
const { step, shots, executablePath, work } = run;

const ADMIN_TOKEN = `browser-admin-${Math.random().toString(36).slice(2)}`;
const SIM_KEY = "sim-browser-key";
const TENANT = "acme-video";
const ISSUER = "https://id.acme-video.example/";
const HS_SECRET = "acme-video-hs256-secret-0123456789abcdef";
const INCUMBENT = { id: "incumbent", issuer: "https://id.incumbent.example/" };

function cli(args, env) {
  return spawnSync(process.execPath, [join(root, "bin", "reelgate-admin.mjs"), ...args], {
    encoding: "utf8",
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
}

let browser;
try {
  const [simPort, gwPort, hookPort, simInspect, gwInspect] = await freePorts(5);
  // The webhook receiver answers 500 until told to succeed (hook.fail = false).
  const hook = { fail: true, received: [] };
  hook.received = startReceiver(run, hookPort, () => (hook.fail ? 500 : 200));
  const { gateway } = await startStack({
    run,
    work,
    ports: { simPort, gwPort, simInspect, gwInspect },
    simKey: SIM_KEY,
    adminToken: ADMIN_TOKEN,
    signingSecret: "browser-signing-secret-0123456789abcdef",
    simVars: { SIM_COMPLETE_AFTER_MS: "2000" },
    gatewayVars: { WEBHOOK_RETRY_SCHEDULE: "1,1,1,1,1,1,1" },
  });
  const base = gateway.url;
  const cliEnv = { REELGATE_URL: base, REELGATE_ADMIN_TOKEN: ADMIN_TOKEN };
  const adminApi = async (path, init = {}) => {
    const res = await fetch(base + path, {
      ...init,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        "content-type": "application/json",
        ...init.headers,
      },
    });
    return { status: res.status, body: res.status === 204 ? null : await res.json() };
  };

  await step("the reelgate-admin binary creates a tenant and fails with the API's code", () => {
    const file = join(work, "incumbent.json");
    writeFileSync(
      file,
      JSON.stringify({
        name: "Incumbent",
        auth: { issuer: INCUMBENT.issuer, audience: "reelgate", hs256_secret: HS_SECRET },
      }),
    );
    const put = cli(["tenants", "put", INCUMBENT.id, "-f", file], cliEnv);
    assert(put.status === 0, `put exited ${put.status}: ${put.stderr}`);
    assert(/^status\s+active$/m.test(put.stdout), `unexpected output: ${put.stdout}`);
    const list = cli(["tenants", "list", "--json"], cliEnv);
    assert(
      JSON.parse(list.stdout).data.some((t) => t.id === INCUMBENT.id),
      "incumbent not listed",
    );
    const bad = cli(["tenants", "get", "nobody"], { ...cliEnv, REELGATE_ADMIN_TOKEN: "wrong" });
    assert(
      bad.status === 1 && bad.stderr.includes("error: unauthorized:"),
      `refused token: ${bad.status} ${bad.stderr}`,
    );
  });

  browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] });
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  const shot = (name) => page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });

  await step("/console is served as static assets, with nothing from another origin", async () => {
    const res = await fetch(`${base}/console`);
    const html = await res.text();
    assert(res.ok && html.includes('src="./app.js"'), `GET /console: ${res.status}`);
    const external = [];
    page.on("request", (r) => {
      if (!r.url().startsWith(base) && !r.url().startsWith("blob:") && !r.url().startsWith("data:"))
        external.push(r.url());
    });
    await page.goto(`${base}/console`);
    await page.getByLabel("Admin token").waitFor();
    assert(external.length === 0, `requests to other origins: ${external.join(", ")}`);
  });

  await step(
    "the token gate takes the admin token by keyboard and keeps it in sessionStorage only",
    async () => {
      await page.goto(`${base}/console/`);
      await page.getByLabel("Admin token").waitFor();
      await shot("01-sign-in");
      await page.keyboard.press("Tab");
      const focused = await page.evaluate(() => document.activeElement?.id);
      assert(focused === "admin-token", `Tab focused ${focused}`);
      const ring = await page.evaluate(() => getComputedStyle(document.activeElement).outlineStyle);
      assert(ring !== "none", "no visible focus ring");
      await page.keyboard.type(ADMIN_TOKEN);
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: "Tenants" }).waitFor();
      const stored = await page.evaluate(() => sessionStorage.getItem("reelgate.adminToken"));
      assert(stored === ADMIN_TOKEN, "token not in sessionStorage");
      const cookies = await context.cookies();
      assert(cookies.length === 0, "a cookie was set");
      assert(!page.url().includes(ADMIN_TOKEN), "token in the URL");
    },
  );

  /** The panel's figures as the console formats them. */
  const credits = (n) => `${Number(n).toLocaleString("en-US", { maximumFractionDigits: 2 })} credits`;

  /** Reloads the page and waits until the console has its answer from /admin/upstream, rendered. */
  async function reloadAnswered() {
    const answered = page.waitForResponse((r) => r.url().endsWith("/admin/upstream"));
    await page.reload();
    await answered;
    await page.locator("tbody tr").first().waitFor();
    await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 50))));
  }

  await step("the front page shows the operator's EvoLink balance from GET /admin/upstream", async () => {
    const { status, body } = await adminApi("/admin/upstream");
    await page.goto(`${base}/console/#/tenants`);
    await reloadAnswered();
    if (status === 404) {
      // A gateway without the route: the panel stays hidden.
      assert((await page.locator("#upstream").count()) === 0, "panel shown for a 404");
      return "skip";
    }
    assert(status === 200, `GET /admin/upstream: ${status}`);
    const remaining = page.locator("#upstream-remaining");
    await remaining.waitFor();
    const b = body.balance;
    const want = !b
      ? "not read yet"
      : b.remaining_credits == null
        ? "unlimited"
        : credits(b.remaining_credits);
    assert((await remaining.textContent()).trim() === want, `remaining: ${await remaining.textContent()}`);
    if (b)
      assert((await page.locator("#upstream-used").textContent()).trim() === credits(b.used_credits), "used");
    assert(
      (await page.locator("#upstream-open").textContent()).startsWith(credits(body.open_reservations)),
      "open reservations",
    );
    assert((await page.locator("#upstream-read").textContent()).includes(b ? "ago" : "not yet"), "read at");
    assert((await page.locator("#upstream.low").count()) === (body.alert.low ? 1 : 0), "low style");
    assert((await page.locator("#upstream-error").count()) === (body.last_error ? 1 : 0), "last error");
    await shot("04a-upstream-balance");
  });

  await step("the balance panel: a low balance is a warning with its reasons, a 404 hides it", async () => {
    const at = (s) => new Date(Date.now() - s * 1000).toISOString();
    const answer = { status: 200, body: null };
    // The plain load and the Refresh button's `?refresh=1` (which asks the Registry to read the balance now).
    const upstream = (url) => url.pathname.endsWith("/admin/upstream");
    const asked = [];
    await page.route(upstream, (route) =>
      (asked.push(new URL(route.request().url()).search), answer.status === 404)
        ? route.fulfill({
            status: 404,
            json: { error: { code: "not_found", message: "no route", type: "invalid_request_error" } },
          })
        : route.fulfill({ status: 200, json: answer.body }),
    );
    try {
      answer.body = {
        balance: { remaining_credits: 350.5, used_credits: 99649.5, read_at: at(125) },
        open_reservations: 420,
        alert: { below: 1000, low: true, since: at(3 * 3600) },
        check_every_seconds: 300,
        last_error: { code: "upstream_timeout", at: at(4000) },
      };
      await page.reload();
      const panel = page.locator("#upstream.low");
      await panel.waitFor();
      const warning = await panel.getByRole("alert").textContent();
      for (const part of [
        "Low balance since 3 h ago",
        "350.5 credits left",
        "under the alert level of 1,000 credits",
        "under the 420 credits tasks in flight hold",
      ])
        assert(warning.includes(part), `warning lacks “${part}”: ${warning}`);
      assert(
        (await page.locator("#upstream-remaining").textContent()).trim() === "350.5 credits",
        "remaining",
      );
      assert((await page.locator("#upstream-used").textContent()).trim() === "99,649.5 credits", "used");
      assert((await page.locator("#upstream-read").textContent()).includes("2 min ago"), "read 2 min ago");
      assert(
        (await page.locator("#upstream-error").textContent()).includes("upstream_timeout"),
        "last error",
      );
      const border = await panel.evaluate((el) => getComputedStyle(el).borderColor);
      assert(border === "rgb(180, 35, 24)", `low panel border ${border}`);
      await shot("04b-upstream-low");
      answer.body = {
        balance: { remaining_credits: null, used_credits: 12, read_at: at(2) },
        open_reservations: 0,
        alert: { below: null, low: false, since: null },
        check_every_seconds: 300,
        last_error: null,
      };
      await page.getByRole("button", { name: "Refresh" }).click();
      await page.locator("#upstream-remaining", { hasText: "unlimited" }).waitFor();
      assert(asked.at(-1) === "?refresh=1", `Refresh asked ${asked.at(-1)}, not ?refresh=1`);
      assert(asked[0] === "", `the page load asked ${asked[0]}`);
      assert((await page.locator("#upstream.low").count()) === 0, "still low");
      assert((await page.locator("#upstream-error").count()) === 0, "an error shown");
      answer.body = { ...answer.body, balance: null };
      await page.getByRole("button", { name: "Refresh" }).click();
      await page.locator("#upstream-remaining", { hasText: "not read yet" }).waitFor();
      answer.status = 404;
      await reloadAnswered();
      assert((await page.locator("#upstream").count()) === 0, "panel shown for a 404");
      assert((await page.locator(".error").count()) === 0, "an error shown for a 404");
    } finally {
      await page.unroute(upstream);
    }
  });

  let createdSecret = null;
  await step("create a tenant through the form, with field errors for a bad issuer first", async () => {
    await page.getByRole("link", { name: "New tenant" }).first().click();
    await page.getByLabel("Tenant id").fill(TENANT);
    await page.getByLabel("Name", { exact: true }).fill("Acme Video");
    await page.getByLabel("Audience (aud), comma-separated").fill("reelgate");
    await page.getByLabel("HS256 secret", { exact: true }).fill(HS_SECRET);
    await page.getByLabel("Tasks in flight").first().fill("5");
    await page.getByLabel("Requests per minute").first().fill("60");
    await page.getByLabel("Credits per month").first().fill("5000");
    await page.getByLabel("Webhook URL").fill(`http://127.0.0.1:${hookPort}/hook`);
    // Alert thresholds: not a number is the form's own error (eleven of them the API's, below), under the field.
    const thresholds = page.getByLabel("Alert thresholds (% of credits per month), comma-separated").first();
    const thresholdsError = page.locator("#f-quotas-alert-thresholds-error");
    await thresholds.fill("80, most");
    await page.getByRole("button", { name: "Create tenant" }).click();
    await thresholdsError.filter({ hasText: "whole percentages" }).waitFor();
    await page.waitForFunction(() => document.activeElement?.id === "f-quotas-alert-thresholds");
    await shot("02a-form-thresholds-error");
    // Out of order with a repeat and a % sign: stored in order, once each.
    await thresholds.fill("100, 50%, 80, 50");
    // An empty issuer: the API's zod error, param auth.issuer, shown under the field and focused.
    await page.getByRole("button", { name: "Create tenant" }).click();
    const issuerError = page.locator("#f-auth-issuer-error");
    await issuerError.waitFor();
    assert((await issuerError.textContent()).includes("auth.issuer"), "no issuer message");
    assert(
      (await page.getByLabel("Issuer (iss)").getAttribute("aria-invalid")) === "true",
      "not aria-invalid",
    );
    // Another tenant's issuer: 409 issuer_conflict, same field; after eleven thresholds, the API's
    // error for them (param quotas.alert_thresholds) under their field.
    await page.getByLabel("Issuer (iss)").fill(INCUMBENT.issuer);
    await thresholds.fill("1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11");
    await page.getByRole("button", { name: "Create tenant" }).click();
    await thresholdsError.filter({ hasText: "alert_thresholds" }).waitFor();
    await thresholds.fill("100, 50%, 80, 50");
    await page.getByRole("button", { name: "Create tenant" }).click();
    await page
      .locator("#f-auth-issuer-error", { hasText: "Another tenant already uses this issuer" })
      .waitFor();
    await page.waitForFunction(() => document.activeElement?.id === "f-auth-issuer", null, {
      timeout: 5_000,
    });
    await shot("02-form-issuer-error");
    await page.getByLabel("Issuer (iss)").fill(ISSUER);
    await page.getByRole("button", { name: "Create tenant" }).click();
    const secret = page.locator("#secret-value");
    await secret.waitFor();
    createdSecret = await secret.inputValue();
    assert(/^whsec_/.test(createdSecret), "no generated secret shown");
    await shot("03-created-secret-once");
    const stored = await adminApi(`/admin/tenants/${TENANT}`);
    assert(
      stored.status === 200 &&
        stored.body.quotas.max_concurrent_tasks === 5 &&
        JSON.stringify(stored.body.quotas.alert_thresholds) === "[50,80,100]",
      `tenant not stored as entered: ${JSON.stringify(stored.body.quotas)}`,
    );
  });

  await step("the tenant is listed, and found by search", async () => {
    await page.goto(`${base}/console/#/tenants`);
    await page.getByRole("link", { name: TENANT }).waitFor();
    await page.getByLabel("Search by id, name or issuer").fill("acme");
    await page.getByRole("button", { name: "Search" }).click();
    await page.waitForFunction(() => location.hash.includes("q=acme"));
    const rows = page.locator("tbody tr");
    await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 1);
    assert((await rows.first().textContent()).includes("Acme Video"), "search result wrong");
    await page.getByLabel("Search by id, name or issuer").fill("");
    await page.getByRole("button", { name: "Search" }).click();
    await page.getByRole("link", { name: INCUMBENT.id }).waitFor();
    await shot("04-tenants-list");
  });

  const taskIds = [];
  await step(
    "generate tasks, let the simulator complete them, and see the usage chart draw them",
    async () => {
      const key = new TextEncoder().encode(HS_SECRET);
      for (const sub of ["alice", "alice", "bob"]) {
        const jwt = await new SignJWT({})
          .setProtectedHeader({ alg: "HS256", typ: "JWT" })
          .setIssuer(ISSUER)
          .setAudience("reelgate")
          .setSubject(sub)
          .setIssuedAt()
          .setExpirationTime("10m")
          .sign(key);
        const res = await fetch(`${base}/v1/videos/generations`, {
          method: "POST",
          headers: { authorization: `Bearer ${jwt}`, "content-type": "application/json" },
          body: JSON.stringify({
            model: "wan2.6-reference-video-flash",
            prompt: "A person dancing in the rain",
            video_urls: ["https://cdn.acme.example/ref.mp4"],
          }),
        });
        const body = await res.json();
        assert(res.status === 200, `generation: ${res.status} ${JSON.stringify(body)}`);
        taskIds.push(body.id);
      }
      await until("the tasks to be charged", async () => {
        const { body } = await adminApi(`/admin/tenants/${TENANT}/usage/daily`);
        return body.days.some((d) => d.tasks_ended === 3 && d.credits_charged > 0);
      });
      await page.goto(`${base}/console/#/tenants/${TENANT}/usage`);
      const chart = page.locator(".chart-box");
      await chart.locator("canvas").waitFor();
      const points = Number(await chart.getAttribute("data-points"));
      assert(points >= 2, `chart has ${points} non-zero points`);
      // The bars are drawn: pixels of the "Charged" series colour (#b3471d at 85%) on the canvas.
      const painted = await chart.locator("canvas").evaluate((canvas) => {
        const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
        let n = 0;
        for (let i = 0; i < data.length; i += 4) {
          const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
          if (r > 150 && r < 210 && g > 60 && g < 110 && b < 70) n++;
        }
        return n;
      });
      assert(painted > 50, `only ${painted} charged-colour pixels on the chart`);
      await page.getByRole("cell", { name: "alice" }).first().waitFor();
      const csv = page.getByRole("link", { name: "Export CSV" });
      const [download] = await Promise.all([page.waitForEvent("download"), csv.click()]);
      const text = await (
        await download.createReadStream()
      )
        .toArray()
        .then((c) => Buffer.concat(c).toString());
      assert(text.startsWith("date,credits_reserved,credits_charged"), "CSV header");
      assert(
        text.split("\n").some((l) => /,3,3$/.test(l)),
        `CSV lacks today's 3 tasks:\n${text}`,
      );
      await page.getByText("Figures per day").click();
      await shot("05-usage-chart");
    },
  );

  await step(
    "the usage chart marks the tenant's alert thresholds (none without a monthly limit)",
    async () => {
      // acme-video: 5,000 credits a month, thresholds [50, 80, 100] from the form.
      await page.goto(`${base}/console/#/tenants/${TENANT}/usage`);
      const chart = page.locator(".chart-box");
      await page.waitForFunction(() => document.querySelector(".chart-box")?.dataset.marks);
      const marks = await chart.getAttribute("data-marks");
      assert(marks === "50:2500 80:4000 100:5000", `marks: ${marks}`);
      await page.locator("#alert-marks", { hasText: "50% = 2,500, 80% = 4,000, 100% = 5,000" }).waitFor();
      // The dashed marks are drawn: pixels of their colour (#6f42c1) on the canvas, about one line per mark.
      const painted = await chart.locator("canvas").evaluate((canvas) => {
        const { data } = canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height);
        const rows = new Set();
        for (let i = 0; i < data.length; i += 4) {
          const [r, g, b] = [data[i], data[i + 1], data[i + 2]];
          if (Math.abs(r - 111) < 12 && Math.abs(g - 66) < 12 && Math.abs(b - 193) < 12)
            rows.add(Math.floor(i / 4 / canvas.width));
        }
        return [...rows].sort((a, b) => a - b);
      });
      const lines = painted.filter((y, i) => i === 0 || y - painted[i - 1] > 3).length;
      assert(lines >= 3, `mark-coloured rows on the chart: ${painted.join(",")}`);
      await shot("05a-usage-thresholds");
      // The incumbent has no monthly_credits: no marks, and the caption says why.
      await page.goto(`${base}/console/#/tenants/${INCUMBENT.id}/usage`);
      await page.locator("#alert-marks", { hasText: "No monthly credit limit" }).waitFor();
      assert((await chart.getAttribute("data-marks")) === "", "marks without a monthly limit");
    },
  );

  await step("the usage page shows kept-result storage per user, and exports it as CSV", async () => {
    // The tenant object's alarm copies each completed task's result from the simulator into RESULTS.
    for (const task of taskIds)
      await until(`${task}'s result to be kept`, async () => {
        const { body } = await adminApi(`/admin/tenants/${TENANT}/tasks/${task}`);
        return body.results_stored === true;
      });
    const { body: daily } = await adminApi(`/admin/tenants/${TENANT}/usage/daily`);
    const storage = daily.result_storage;
    // The page is already open on the usage view (the step before): load it again for the new figures.
    await page.goto(`${base}/console/#/tenants/${TENANT}/usage`);
    await page.reload();
    await page.locator("#storage-users").getByRole("cell", { name: "bob" }).waitFor();
    const alice = storage.users.find((u) => u.sub === "alice");
    const aliceRow = page.locator("#storage-users tbody tr", { hasText: "alice" });
    assert(
      (await aliceRow.locator("td").nth(1).getAttribute("title")) === `${alice.bytes} bytes`,
      "alice's stored bytes",
    );
    await page.getByText("Kept results stored now").waitFor();
    const link = page.getByRole("link", { name: "Export storage CSV" });
    const [download] = await Promise.all([page.waitForEvent("download"), link.click()]);
    const text = await (await download.createReadStream()).toArray().then((c) => Buffer.concat(c).toString());
    const lines = text.trim().split("\n");
    assert(lines[0] === "scope,sub,bytes_stored,byte_days", `storage CSV header: ${lines[0]}`);
    assert(lines[1].startsWith(`tenant,,${storage.bytes},`), `tenant row: ${lines[1]}`);
    assert(
      lines.some((l) => l.startsWith(`user,alice,${alice.bytes},`)) &&
        lines.some((l) => l.startsWith("user,bob,")),
      `storage CSV users:\n${text}`,
    );
    assert(
      storage.bytes === storage.users.reduce((s, u) => s + u.bytes, 0),
      "the tenant's bytes are its users' sum",
    );
    await shot("05b-usage-storage");
  });

  await step("a failed webhook delivery is dead-lettered, then redelivered from the page", async () => {
    await until(
      "a dead-lettered delivery",
      async () => {
        const { body } = await adminApi(`/admin/tenants/${TENANT}/deliveries?limit=100`);
        return body.data.some((d) => d.outcome === "dead_lettered");
      },
      90_000,
      1000,
    );
    assert(
      hook.received.length > 0 && hook.received.every((r) => r.status !== 200),
      "the receiver was not failing",
    );
    hook.fail = false;
    await page.goto(`${base}/console/#/tenants/${TENANT}/deliveries`);
    const dead = page
      .locator("section table")
      .first()
      .locator("tbody tr", { hasText: "dead_lettered" })
      .first();
    await dead.waitFor();
    const deliveryId = await dead.getAttribute("data-delivery");
    await shot("06-deliveries-dead-letter");
    await dead.getByRole("button", { name: /Redeliver/ }).click();
    await dead.getByText("Redelivery queued").waitFor();
    const redelivered = await until("the redelivery to succeed", async () => {
      const { body } = await adminApi(`/admin/tenants/${TENANT}/deliveries?limit=100`);
      return body.data.find((d) => d.redelivery && d.outcome === "delivered");
    });
    assert(redelivered.status_code === 200, "redelivery status code");
    assert(
      hook.received.some((r) => r.status === 200 && r.headers["webhook-id"]),
      "the receiver got no successful delivery",
    );
    await page.getByRole("button", { name: "Refresh" }).click();
    await page
      .locator("tbody tr", { hasText: "(redelivery)" })
      .filter({ hasText: "delivered" })
      .first()
      .waitFor();
    assert(deliveryId, "dead-letter row has no delivery id");
    await shot("07-deliveries-redelivered");
  });

  await step("the endpoint's health, a test event and a recovery from the deliveries page", async () => {
    const endpoint = page.locator("[data-endpoint]").first();
    await endpoint.waitFor();
    assert(/enabled/.test(await endpoint.innerText()), "the endpoint is not shown enabled");
    await page.getByRole("button", { name: "Send test event" }).click();
    await page.getByText(/^Test event msg_test_\S+ queued\.$/).waitFor();
    await until("the test event's delivery", async () => {
      const { body } = await adminApi(`/admin/tenants/${TENANT}/deliveries?limit=100`);
      return body.data.some((d) => d.type === "webhook.test" && d.outcome === "delivered");
    });
    await page.getByLabel("Recover since").fill("2020-01-01T00:00");
    await page.getByRole("button", { name: "Recover", exact: true }).click();
    await page.getByText(/^\d+ events queued again\.$/).waitFor();
    await shot("07b-deliveries-endpoint-health");
  });

  await step("rotate the webhook secret: shown once, with a copy button", async () => {
    await page.goto(`${base}/console/#/tenants/${TENANT}/overview`);
    await page.getByRole("button", { name: "Rotate webhook secret" }).click();
    const secret = page.locator("#secret-value");
    await secret.waitFor();
    const value = await secret.inputValue();
    assert(/^whsec_/.test(value) && value !== createdSecret, "rotated secret not shown");
    await page.getByRole("button", { name: "Copy" }).click();
    await page.getByText("Copied to the clipboard.").waitFor();
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    assert(clip === value, "clipboard does not hold the secret");
    await shot("08-rotated-secret");
    await page.reload();
    await page.getByRole("button", { name: "Rotate webhook secret" }).waitFor();
    assert((await page.locator("#secret-value").count()) === 0, "secret shown again after reload");
    assert(!(await page.content()).includes(value), "secret still in the page");
  });

  await step("suspend and resume from the page", async () => {
    await page.getByRole("button", { name: "Suspend" }).click();
    await page.locator("#tenant-title .badge", { hasText: "suspended" }).waitFor();
    assert((await adminApi(`/admin/tenants/${TENANT}`)).body.status === "suspended", "not suspended");
    await page.getByRole("button", { name: "Resume" }).click();
    await page.locator("#tenant-title .badge", { hasText: "active" }).waitFor();
    await shot("09-tenant-overview");
  });

  await step(
    "the tasks page lists tasks with a status filter, and a task's detail shows its upstream id",
    async () => {
      await page.goto(`${base}/console/#/tenants/${TENANT}/tasks`);
      await page.getByRole("link", { name: taskIds[0] }).waitFor();
      await page.getByLabel("Status").selectOption("failed");
      await page.getByText("No tasks with status failed.").waitFor();
      await page.getByLabel("Status").selectOption("completed");
      await page.getByRole("link", { name: taskIds[0] }).waitFor();
      await shot("10-tasks");
      await page.getByRole("link", { name: taskIds[0] }).click();
      const shown = await page.locator("#upstream-id").textContent();
      const { body: task } = await adminApi(`/admin/tenants/${TENANT}/tasks/${taskIds[0]}`);
      assert(
        task.upstream_id && shown === task.upstream_id,
        `upstream id shown: ${shown}, API: ${task.upstream_id}`,
      );
      await shot("11-task-detail");
    },
  );

  await step(
    "a task's detail says whether its results are kept; an ended task is deleted from the list",
    async () => {
      await page.goto(`${base}/console/#/tenants/${TENANT}/tasks/${taskIds[0]}`);
      await page.locator("#results-kept", { hasText: "stored in the bucket" }).waitFor();
      const doomed = taskIds[2];
      await page.goto(`${base}/console/#/tenants/${TENANT}/tasks`);
      const remove = page.getByRole("button", { name: `Delete ${doomed}` });
      await remove.click();
      const dialog = page.getByRole("dialog");
      await dialog.waitFor();
      await dialog.getByRole("button", { name: "Cancel" }).click();
      assert(
        (await adminApi(`/admin/tenants/${TENANT}/tasks/${doomed}`)).status === 200,
        "cancel deleted the task",
      );
      await remove.click();
      await shot("11b-delete-task-confirmation");
      await dialog.getByRole("button", { name: "Delete task" }).click();
      await page.getByText(`Deleted ${doomed} and its kept results.`).waitFor();
      await page.getByRole("link", { name: doomed }).waitFor({ state: "detached" });
      assert((await adminApi(`/admin/tenants/${TENANT}/tasks/${doomed}`)).status === 404, "task not deleted");
      const { body } = await adminApi(`/admin/tenants/${TENANT}/usage/daily`);
      assert(
        body.result_storage.users.find((u) => u.sub === "bob")?.bytes === 0,
        `bob's kept bytes after the delete: ${JSON.stringify(body.result_storage)}`,
      );
    },
  );

  await step("edit a tenant through the form", async () => {
    await page.goto(`${base}/console/#/tenants/${TENANT}/edit`);
    const name = page.getByLabel("Name", { exact: true });
    await name.waitFor();
    assert((await name.inputValue()) === "Acme Video", "form not filled from the tenant");
    assert((await page.getByLabel("Tenant id").isDisabled()) === true, "id editable");
    await name.fill("Acme Video Studio");
    await page.getByRole("button", { name: "Save" }).click();
    // Secrets are never read back: saving without the HS256 secret is the API's field error.
    await page.locator("#f-auth-hs256-secret-error").waitFor();
    await page.getByLabel("HS256 secret", { exact: true }).fill(HS_SECRET);
    await page.getByRole("button", { name: "Save" }).click();
    await page.getByRole("heading", { name: /Acme Video Studio/ }).waitFor();
    const stored = (await adminApi(`/admin/tenants/${TENANT}`)).body;
    assert(
      stored.name === "Acme Video Studio" &&
        stored.quotas.max_concurrent_tasks === 5 &&
        JSON.stringify(stored.quotas.alert_thresholds) === "[50,80,100]",
      `edit not stored: ${JSON.stringify(stored)}`,
    );
  });

  await step("delete a tenant behind a confirmation", async () => {
    await page.goto(`${base}/console/#/tenants/${INCUMBENT.id}/overview`);
    await page.getByRole("button", { name: "Delete…" }).click();
    const dialog = page.getByRole("dialog");
    await dialog.waitFor();
    await dialog.getByRole("button", { name: "Cancel" }).click();
    assert((await adminApi(`/admin/tenants/${INCUMBENT.id}`)).status === 200, "cancel deleted the tenant");
    await page.getByRole("button", { name: "Delete…" }).click();
    await shot("12-delete-confirmation");
    await dialog.getByRole("button", { name: "Delete tenant" }).click();
    await page.getByRole("heading", { name: "Tenants" }).waitFor();
    assert((await adminApi(`/admin/tenants/${INCUMBENT.id}`)).status === 404, "tenant not deleted");
  });

  await step("the reelgate-admin binary shows the month's usage and the deliveries", () => {
    const usage = cli(["usage", TENANT], cliEnv);
    assert(usage.status === 0, `usage exited ${usage.status}: ${usage.stderr}`);
    assert(
      /^alice\s+/m.test(usage.stdout) && usage.stdout.includes("3 tasks"),
      `usage output:\n${usage.stdout}`,
    );
    const deliveries = cli(["deliveries", TENANT], cliEnv);
    assert(
      deliveries.status === 0 && /dead_lettered/.test(deliveries.stdout),
      `deliveries:\n${deliveries.stdout}`,
    );
  });

  await step("the page threw no errors", () => {
    assert(pageErrors.length === 0, pageErrors.join("\n"));
  });
} catch (err) {
  run.fail("set-up", err);
} finally {
  await browser?.close().catch(() => {});
  await run.close(work);
  run.finish();
}
