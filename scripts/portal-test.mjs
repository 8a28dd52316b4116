#!/usr/bin/env node
// `npm run test:portal` (a step of `npm test`): the tenant portal in headless Chromium (Debian's `chromium`,
// driven by playwright-core) against the real gateway under `wrangler dev`, with the upstream simulator and a
// local webhook receiver, all on free random ports. Two tenants each run a task; a portal link of the first is
// opened: the token leaves the address bar, the page shows that tenant only (its usage chart, its task and
// result link, its deliveries, its uploads) and refuses the other's ids; it redelivers an event and rotates
// the secret (shown once); its endpoint, dead for 3.6 s on a compressed clock, is switched off (the banner),
// re-enabled (the held event arrives) and recovered (the failed ones again); a read-only link shows no action; a link refuses once expired, and every link
// refuses after the console's "Revoke all portal links". Screenshots go to artifacts/portal/. Ends with
// "portal: N passed, N failed, N skipped" and writes .wrangler/portal-report.json for scripts/check.mjs.
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { SignJWT } from "jose";
import { chromium } from "playwright-core";
import { freePorts } from "../bench/lib/processes.mjs";
import { assert, openRun, startReceiver, startStack, until } from "./lib/browser-run.mjs";

const run = openRun("portal", "portal");
const { step, shots, executablePath, work } = run;

const ADMIN_TOKEN = `portal-admin-${Math.random().toString(36).slice(2)}`;
const SIM_KEY = "sim-portal-key";
const HS_SECRET = "portal-test-hs256-secret-0123456789abcdef";
const TENANTS = [
  { id: "acme-portal", name: "Acme Portal", issuer: "https://id.acme-portal.example/" },
  { id: "rival-portal", name: "Rival Portal", issuer: "https://id.rival-portal.example/" },
];

let browser;
try {
  const [simPort, gwPort, hookPort, simInspect, gwInspect] = await freePorts(5);
  const refuse = new Map();
  // A path set in `refuse` answers that status (a dead endpoint); any other, 200.
  const received = startReceiver(run, hookPort, (url) => refuse.get(url) ?? 200);
  const { gateway } = await startStack({
    run,
    work,
    ports: { simPort, gwPort, simInspect, gwInspect },
    simKey: SIM_KEY,
    adminToken: ADMIN_TOKEN,
    signingSecret: "portal-signing-secret-0123456789abcdef",
    simVars: { SIM_COMPLETE_AFTER_MS: "1500" },
    // A compressed clock for auto-disable: an endpoint failing for 3.6 s in a row is switched off.
    gatewayVars: { WEBHOOK_DISABLE_AFTER_HOURS: "0.001" },
  });
  const base = gateway.url;
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
  const link = async (tenant, body) => {
    const r = await adminApi(`/admin/tenants/${tenant}/portal-links`, {
      method: "POST",
      body: JSON.stringify(body),
    });
    assert(r.status === 201, `portal link: ${r.status} ${JSON.stringify(r.body)}`);
    return r.body;
  };

  /** A generation for tenant `t`'s user: its task id. */
  const generate = async (t) => {
    const jwt = await new SignJWT({})
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuer(t.issuer)
      .setAudience("reelgate")
      .setSubject(`${t.id}-user`)
      .setIssuedAt()
      .setExpirationTime("10m")
      .sign(new TextEncoder().encode(HS_SECRET));
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
    return body.id;
  };

  const taskOf = {};
  await step("set-up: two tenants, each with a completed task, its webhook delivered", async () => {
    for (const t of TENANTS) {
      const put = await adminApi(`/admin/tenants/${t.id}`, {
        method: "PUT",
        body: JSON.stringify({
          name: t.name,
          auth: { issuer: t.issuer, audience: "reelgate", hs256_secret: HS_SECRET },
          quotas: { monthly_credits: 500, alert_thresholds: [50, 100] },
          webhook: { url: `http://127.0.0.1:${hookPort}/${t.id}` },
        }),
      });
      assert(put.status === 201, `create ${t.id}: ${put.status} ${JSON.stringify(put.body)}`);
      taskOf[t.id] = await generate(t);
    }
    for (const t of TENANTS)
      await until(`${t.id}'s delivery`, async () => {
        const { body } = await adminApi(`/admin/tenants/${t.id}/deliveries`);
        return body.data.some((d) => d.outcome === "delivered");
      });
  });

  browser = await chromium.launch({ executablePath, headless: true, args: ["--no-sandbox"] });
  const context = await browser.newContext({ viewport: { width: 1200, height: 900 } });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: base });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const pageErrors = [];
  page.on("pageerror", (e) => pageErrors.push(String(e)));
  const external = [];
  page.on("request", (r) => {
    if (!r.url().startsWith(base) && !r.url().startsWith("blob:") && !r.url().startsWith("data:"))
      external.push(r.url());
  });
  const shot = (p, name) => p.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
  const [mine, theirs] = TENANTS;
  const full = await link(mine.id, {
    ttl_seconds: 600,
    capabilities: ["redeliver", "rotate_secret", "edit_webhook"],
  });

  await step("a portal link opens its tenant's page; the token leaves the address bar", async () => {
    const res = await fetch(full.url.split("#")[0]);
    assert(
      res.ok && res.headers.get("content-security-policy")?.includes("frame-ancestors 'none'"),
      "page CSP",
    );
    await page.goto(full.url);
    await page.getByRole("heading", { name: /^Usage/ }).waitFor();
    assert(!page.url().includes("#"), `fragment left in the address bar: ${page.url()}`);
    const stored = await page.evaluate((k) => sessionStorage.getItem(k), `reelgate.portal.${mine.id}`);
    assert(stored === full.url.split("#")[1], "token not kept in sessionStorage");
    assert((await page.locator("#portal-tenant").textContent()).trim() === mine.name, "tenant name");
    const chart = page.locator(".chart-box");
    await chart.locator("canvas").waitFor();
    assert(Number(await chart.getAttribute("data-points")) > 0, "the chart drew no bars");
    assert((await chart.getAttribute("data-marks")).includes("50:250"), "threshold marks missing");
    assert(external.length === 0, `requests to other origins: ${external.join(", ")}`);
    await shot(page, "01-usage");
  });

  await step(
    "it shows only its tenant: its task and result link, not the other's; other ids are 404",
    async () => {
      await page.getByRole("button", { name: "Tasks" }).click();
      await page.locator(`tr[data-task="${taskOf[mine.id]}"]`).waitFor();
      const text = await page.locator("main").textContent();
      assert(!text.includes(taskOf[theirs.id]), "the other tenant's task is listed");
      assert((await page.locator("tbody tr").count()) === 1, "more than its one task");
      await page.getByRole("button", { name: taskOf[mine.id] }).click();
      const results = page.locator("#task-results a");
      await results.first().waitFor();
      assert((await results.first().getAttribute("href")).startsWith("http"), "no result link");
      await shot(page, "02-task");
      // From inside the page, with its own token: the other tenant and its task are the one 404.
      const answers = await page.evaluate(
        async ({ key, other, otherTask, mineId }) => {
          const auth = { authorization: `Bearer ${sessionStorage.getItem(key)}` };
          const a = await fetch(`/portal/api/${other}/session`, { headers: auth });
          const b = await fetch(`/portal/api/${mineId}/tasks/${otherTask}`, { headers: auth });
          return [a.status, (await a.json()).error.code, b.status, (await b.json()).error.code];
        },
        {
          key: `reelgate.portal.${mine.id}`,
          other: theirs.id,
          otherTask: taskOf[theirs.id],
          mineId: mine.id,
        },
      );
      assert(JSON.stringify(answers) === '[404,"not_found",404,"not_found"]', `other ids: ${answers}`);
    },
  );

  await step("redeliver an event from the page: the receiver gets it again, same webhook-id", async () => {
    await page.getByRole("button", { name: "Deliveries" }).click();
    const button = page.getByRole("button", { name: /^Redeliver / }).first();
    await button.waitFor();
    const before = received.filter((r) => r.url === `/${mine.id}`).length;
    const firstId = received.find((r) => r.url === `/${mine.id}`).headers["webhook-id"];
    await button.click();
    await page.getByRole("status").filter({ hasText: "Redelivery queued" }).waitFor();
    await until(
      "the redelivery",
      () => received.filter((r) => r.url === `/${mine.id}`).length > before,
      30_000,
    );
    const again = received.filter((r) => r.url === `/${mine.id}`).at(-1);
    assert(again.headers["webhook-id"] === firstId, "the redelivery has another webhook-id");
    assert(
      received.filter((r) => r.url === `/${theirs.id}`).length === 1,
      "the other tenant got a redelivery",
    );
    await shot(page, "03-deliveries-redelivered");
  });

  await step("rotate the secret: shown once, the previous one signs on; gone after a reload", async () => {
    await page.getByRole("button", { name: "Webhook", exact: true }).click();
    await page.getByRole("button", { name: "Rotate signing secret" }).click();
    const secret = page.locator("#secret-value");
    await secret.waitFor();
    const value = await secret.inputValue();
    assert(/^whsec_/.test(value), "no secret shown");
    await page.locator("#webhook-secret", { hasText: "previous one also signs until" }).waitFor();
    await shot(page, "04-webhook-rotated");
    const view = await adminApi(`/admin/tenants/${mine.id}`);
    assert(view.body.webhook.previous_secret_expires_at, "no overlap recorded");
    await page.reload();
    await page.getByRole("button", { name: "Webhook", exact: true }).click();
    await page.locator("#webhook-url").waitFor();
    assert((await page.locator("#secret-value").count()) === 0, "secret shown again after a reload");
    assert(!(await page.content()).includes(value), "secret in the page after a reload");
  });

  await step(
    "a dead endpoint is switched off and the page says so; Re-enable sends what was held, Recover what failed",
    async () => {
      const path = `/${mine.id}`;
      const health = async () =>
        (await adminApi(`/admin/tenants/${mine.id}/webhook/health`)).body.data.find((e) =>
          e.url.endsWith(path),
        );
      // 410: a permanent failure, so each event is tried once and recorded `failed`.
      refuse.set(path, 410);
      const first = await generate(mine);
      await until("the first failure", async () => (await health())?.consecutive_failures >= 1, 30_000);
      const firstFailure = Date.parse((await health()).first_failure_at);
      await sleep(Math.max(0, firstFailure + 3_800 - Date.now()));
      await generate(mine);
      await until("the endpoint switched off", async () => (await health())?.state === "disabled", 30_000);
      // Switched off: a new event is held, not attempted.
      const attempts = received.filter((r) => r.url === path).length;
      const held = await generate(mine);
      await until("the held event", async () => (await health())?.held >= 1, 30_000);
      assert(received.filter((r) => r.url === path).length === attempts, "a held event was attempted");

      await page.reload();
      const banner = page.locator("#webhook-disabled-banner");
      await banner.waitFor();
      await page.getByRole("button", { name: "Webhook", exact: true }).click();
      await page.locator(`[data-endpoint$="${path}"]`, { hasText: "disabled" }).waitFor();
      await shot(page, "05-endpoint-disabled");

      refuse.delete(path);
      await page.getByRole("button", { name: /^Re-enable / }).click();
      await page.getByText("Re-enabled: held events are on their way.").waitFor();
      const ok = () => received.filter((r) => r.url === path && r.status === 200);
      const okIds = () => new Set(ok().map((r) => r.headers["webhook-id"]));
      await until(
        "the held event, delivered",
        () => ok().some((r) => JSON.parse(r.body).id === held),
        30_000,
      );
      await banner.waitFor({ state: "detached" });

      // Recover: every event whose last attempt failed since T (the form's default, a day ago) again.
      const failed = received.filter((r) => r.url === path && r.status === 410);
      const failedIds = new Set(failed.map((r) => r.headers["webhook-id"]));
      assert(
        failed.some((r) => JSON.parse(r.body).id === first),
        "the first task's event never failed",
      );
      await page.getByRole("button", { name: "Deliveries" }).click();
      await page.getByRole("button", { name: "Recover" }).click();
      const result = page.locator("#recover-result");
      await result.waitFor();
      const queued = Number((await result.textContent()).match(/\d+/)?.[0]);
      assert(queued === failedIds.size, `Recover queued ${queued}, ${failedIds.size} had failed`);
      await until(
        "the failed events, recovered",
        () => [...failedIds].every((id) => okIds().has(id)),
        30_000,
      );
      assert(
        received.filter((r) => r.url === `/${theirs.id}`).length === 1,
        "the other tenant's endpoint got something",
      );
      assert((await health()).state === "enabled", "still disabled");
      await page.getByRole("button", { name: "Refresh" }).click();
      await page.locator("tr[data-delivery]", { hasText: "(redelivery)" }).nth(failedIds.size).waitFor();
      await shot(page, "06-recovered");
    },
  );

  await step("a read-only link shows no action", async () => {
    const readOnly = await link(mine.id, { ttl_seconds: 600 });
    const p = await context.newPage();
    await p.goto(readOnly.url);
    await p.getByRole("button", { name: "Deliveries" }).click();
    await p.locator("tr[data-delivery]").first().waitFor();
    assert((await p.getByRole("button", { name: /^Redeliver/ }).count()) === 0, "Redeliver shown");
    await p.getByRole("button", { name: "Webhook", exact: true }).click();
    await p.locator("#webhook-url").waitFor();
    assert((await p.getByRole("button", { name: "Rotate signing secret" }).count()) === 0, "Rotate shown");
    assert((await p.getByLabel("New webhook URL").count()) === 0, "URL form shown");
    await shot(p, "07-read-only");
    await p.close();
  });

  await step("an expired link is refused", async () => {
    const short = await link(mine.id, { ttl_seconds: 2 });
    const p = await context.newPage();
    await p.goto(short.url);
    await p.getByRole("heading", { name: /^Usage/ }).waitFor();
    await sleep(Math.max(0, Date.parse(short.expires_at) - Date.now()) + 500);
    await p.getByRole("button", { name: "Tasks" }).click();
    await p.getByRole("heading", { name: "This link no longer works" }).waitFor();
    await p.reload();
    await p.getByRole("heading", { name: "This link no longer works" }).waitFor();
    await shot(p, "08-expired");
    await p.close();
  });

  await step("the console's Revoke button ends every link of the tenant", async () => {
    const c = await context.newPage();
    await c.goto(`${base}/console/`);
    await c.getByLabel("Admin token").fill(ADMIN_TOKEN);
    await c.keyboard.press("Enter");
    await c.goto(`${base}/console/#/tenants/${mine.id}/overview`);
    await c.getByRole("button", { name: "Create portal link" }).click();
    const made = await c.locator("#portal-link").inputValue();
    assert(made.startsWith(`${base}/portal/${mine.id}#`), `console link: ${made}`);
    await c.getByRole("button", { name: "Revoke all portal links" }).click();
    await c.getByText("Every portal link issued so far is revoked.").waitFor();
    await shot(c, "09-console-revoked");
    await c.close();
    await page.reload();
    await page.getByRole("heading", { name: "This link no longer works" }).waitFor();
    const p = await context.newPage();
    await p.goto(made);
    await p.getByRole("heading", { name: "This link no longer works" }).waitFor();
    await p.close();
    await shot(page, "10-revoked");
  });

  await step("the pages threw no errors", () => {
    assert(pageErrors.length === 0, pageErrors.join("\n"));
  });
} catch (err) {
  run.fail("set-up", err);
} finally {
  await browser?.close().catch(() => {});
  await run.close(work);
  run.finish();
}
