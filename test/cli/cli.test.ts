// The `reelgate-admin` CLI (bin/lib/cli.mjs) run against the real app: its fetch is the Worker's own
// `exports.default.fetch`, so each command's request, the API's answer, the table or JSON printed and the
// exit code are all real. (scripts/browser-test.mjs also runs the real binary against `wrangler dev`.)
import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { parseArgs, plan, run, type CliIo } from "../../bin/lib/cli.mjs";
import type { DeliveryEntry } from "../../src/callbacks/delivery-log";
import { objectOf } from "../helpers/objects";
import { hsTenant } from "../fixtures/tenants";
import { ADMIN_TOKEN, GATEWAY, startSimulator } from "../helpers/gateway";
import { BODY_CREDITS, createdId, generate, getTask } from "../quota/helpers";
import { BYTES, completed, storedIs, tenantWith } from "../results/helpers";

interface Result {
  code: number;
  out: string;
  err: string;
  requests: { url: string; method: string }[];
}

async function cli(
  argv: string[],
  opts: {
    files?: Record<string, string>;
    token?: string;
    /** Answers a request in place of the app (a state that is slow to reach for real). */
    stub?: (url: string, method: string) => Response | undefined;
  } = {},
): Promise<Result> {
  const out: string[] = [];
  const err: string[] = [];
  const requests: Result["requests"] = [];
  const io: CliIo = {
    fetch: (url, init) => {
      requests.push({ url, method: init.method ?? "GET" });
      const stubbed = opts.stub?.(url, init.method ?? "GET");
      return stubbed ? Promise.resolve(stubbed) : exports.default.fetch(url, init);
    },
    env: { REELGATE_URL: GATEWAY, REELGATE_ADMIN_TOKEN: opts.token ?? ADMIN_TOKEN },
    out: (t) => out.push(t),
    err: (t) => err.push(t),
    readFile: async (path) => {
      const text = opts.files?.[path];
      if (text === undefined) throw new Error(`ENOENT: ${path}`);
      return text;
    },
  };
  const code = await run(argv, io);
  return { code, out: out.join("\n"), err: err.join("\n"), requests };
}

describe("reelgate-admin tenants", () => {
  it("puts a tenant from a file, gets it, lists it by search, suspends and resumes it", async () => {
    const t = hsTenant();
    const put = await cli(["tenants", "put", t.id, "-f", "tenant.json"], {
      files: { "tenant.json": JSON.stringify(t.input) },
    });
    expect(put).toMatchObject({ code: 0, err: "" });
    expect(put.requests).toEqual([{ url: `${GATEWAY}/admin/tenants/${t.id}`, method: "PUT" }]);
    expect(put.out).toMatch(new RegExp(`^id\\s+${t.id}$`, "m"));
    expect(put.out).toMatch(/^keys\s+hs256_secret$/m);

    const list = await cli(["tenants", "list", "--search", t.id]);
    expect(list.code).toBe(0);
    expect(list.out.split("\n")).toEqual([
      expect.stringMatching(/^ID\s+NAME\s+STATUS\s+ISSUER$/),
      expect.stringMatching(/^-+\s+-+/),
      expect.stringMatching(new RegExp(`^${t.id}\\s+Tenant ${t.id}\\s+active\\s+${t.issuer}$`)),
    ]);
    const json = await cli(["tenants", "list", "--search", t.id, "--json"]);
    expect(JSON.parse(json.out)).toEqual({
      object: "list",
      data: [
        {
          id: t.id,
          name: `Tenant ${t.id}`,
          status: "active",
          issuer: t.issuer,
          incarnation: expect.any(String),
          version: expect.any(Number),
        },
      ],
      cursor: null,
    });

    expect((await cli(["tenants", "suspend", t.id])).out).toMatch(/^status\s+suspended$/m);
    expect(JSON.parse((await cli(["tenants", "get", t.id, "--json"])).out)).toMatchObject({
      status: "suspended",
    });
    expect((await cli(["tenants", "resume", t.id])).out).toMatch(/^status\s+active$/m);

    const rotated = await cli(["rotate-secret", t.id]);
    expect(rotated.code).toBe(0);
    expect(rotated.out).toMatch(/new webhook secret \(shown once\): whsec_[A-Za-z0-9+/]{32}$/);

    const del = await cli(["tenants", "delete", t.id]);
    expect(del).toMatchObject({ code: 0, out: `deleted ${t.id}` });
    const gone = await cli(["tenants", "get", t.id]);
    expect(gone.code).toBe(1);
    expect(gone.err).toBe("error: tenant_not_found: No such tenant [HTTP 404]");
  });

  it("tenants delete calls again while the API answers 202 (stored files remain), to the 204", async () => {
    const t = hsTenant();
    expect(
      (await cli(["tenants", "put", t.id, "-f", "t.json"], { files: { "t.json": JSON.stringify(t.input) } }))
        .code,
    ).toBe(0);
    let deleting = 2;
    const stub = (_url: string, method: string) =>
      method === "DELETE" && deleting-- > 0
        ? Response.json({ status: "deleting", deleted: 20_000 }, { status: 202 })
        : undefined;
    const del = await cli(["tenants", "delete", t.id, "--force"], { stub });
    expect(del).toMatchObject({ code: 0, out: `deleted ${t.id}` });
    const url = `${GATEWAY}/admin/tenants/${t.id}?force=true`;
    expect(del.requests).toEqual(Array(3).fill({ url, method: "DELETE" }));
    expect((await cli(["tenants", "get", t.id])).code).toBe(1);
  });

  it("prints the API's field error with its param and exits 1", async () => {
    const t = hsTenant();
    const bad = { ...t.input, auth: { ...(t.input.auth as object), issuer: "" } };
    const res = await cli(["tenants", "put", "-f", "t.json"], {
      files: { "t.json": JSON.stringify({ id: t.id, ...bad }) },
    });
    expect(res.code).toBe(1);
    expect(res.err).toMatch(
      /^error: invalid_request: auth\.issuer: .+ \(param: auth\.issuer\) \[HTTP 400\]$/,
    );
    expect(res.out).toBe("");
  });

  it("exits 1 with the code on a refused token, 2 on usage errors or missing configuration", async () => {
    const refused = await cli(["tenants", "list"], { token: "wrong" });
    expect(refused).toMatchObject({ code: 1, err: "error: unauthorized: Invalid admin token [HTTP 401]" });
    for (const argv of [
      ["bogus"],
      ["tenants", "frobnicate"],
      ["usage", "t1", "--month", "May"],
      ["tenants", "get"],
    ]) {
      const r = await cli(argv);
      expect(r.code).toBe(2);
      expect(r.requests).toEqual([]);
      expect(r.err).toContain("usage: reelgate-admin");
    }
    expect((await cli(["tenants", "put", "x", "-f", "missing.json"])).err).toContain(
      "cannot read missing.json",
    );
    const out: string[] = [];
    const noEnv = await run(["tenants", "list"], {
      fetch: () => Promise.reject(new Error("must not be called")),
      env: {},
      out: (t) => out.push(t),
      err: (t) => out.push(t),
      readFile: async () => "",
    });
    expect(noEnv).toBe(2);
    expect(out.join()).toContain("REELGATE_URL");
  });
});

describe("reelgate-admin usage, deliveries, redeliver", () => {
  it("shows the month's credits per day and the top users", async () => {
    const { clock } = startSimulator();
    const t = await (async () => {
      const f = hsTenant({ quotas: { max_concurrent_tasks: 4 } });
      expect(
        (await cli(["tenants", "put", f.id, "-f", "f"], { files: { f: JSON.stringify(f.input) } })).code,
      ).toBe(0);
      return f;
    })();
    const a = await createdId(await generate(t, { sub: "carol" }));
    await clock.advance(6_000);
    await getTask(t, a, "carol");
    await createdId(await generate(t, { sub: "carol" }));
    const res = await cli(["usage", t.id]);
    expect(res.code).toBe(0);
    const today = new Date().toISOString().slice(0, 10);
    expect(res.out).toContain(`${BODY_CREDITS} credits charged, ${2 * BODY_CREDITS} reserved, 2 tasks`);
    expect(res.out).toContain("in flight: 1 / 4");
    expect(res.out).toMatch(
      new RegExp(`^${today}\\s+${2 * BODY_CREDITS}\\s+${BODY_CREDITS}\\s+${BODY_CREDITS}\\s+2\\s+1$`, "m"),
    );
    expect(res.out).toMatch(new RegExp(`^carol\\s+${BODY_CREDITS}\\s+${2 * BODY_CREDITS}\\s+2$`, "m"));
    const month = await cli(["usage", t.id, "--month", "2026-01", "--json"]);
    expect(JSON.parse(month.out)).toMatchObject({ month: "2026-01", top_users: [] });
  });

  it("lists a tenant's deliveries and redelivers one", async () => {
    const { clock } = startSimulator();
    const t = hsTenant();
    await cli(["tenants", "put", t.id, "-f", "f"], { files: { f: JSON.stringify(t.input) } });
    const task = await createdId(await generate(t));
    await clock.advance(6_000);
    await getTask(t, task);
    const entry: DeliveryEntry = {
      eventId: "msg_cli_1",
      taskId: task,
      attempt: null,
      at: Date.now(),
      url: "https://hooks.acme.example/reelgate",
      statusCode: 500,
      latencyMs: 31,
      outcome: "dead_lettered",
      error: "HTTP 500",
      nextAttemptAt: null,
      redelivery: false,
    };
    const recorded = await (await objectOf(t.id)).recordDelivery(entry);
    const list = await cli(["deliveries", t.id]);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(
      new RegExp(`${recorded.id}\\s+${task}\\s+dlq\\s+500\\s+31ms\\s+dead_lettered$`, "m"),
    );
    const again = await cli(["redeliver", recorded.id]);
    expect(again.code).toBe(0);
    expect(again.out).toMatch(
      new RegExp(`^redelivery of ${recorded.id.replace(".", "\\.")} \\(event msg_\\S+\\): queued$`),
    );
    const missing = await cli(["redeliver", `dlv_${"a".repeat(24)}.${t.id}`]);
    expect(missing).toMatchObject({ code: 1, err: "error: delivery_not_found: No such delivery [HTTP 404]" });
  });
});

describe("reelgate-admin tasks", () => {
  it("builds the task list and detail requests of the admin tasks API", async () => {
    const list = await plan(
      parseArgs(["tasks", "acme", "--status", "failed", "--page", "2"]),
      async () => "",
    );
    expect(list).toMatchObject({ method: "GET", path: "/admin/tenants/acme/tasks?status=failed&page=2" });
    const detail = await plan(parseArgs(["tasks", "acme", "task-1"]), async () => "");
    expect(detail).toMatchObject({ method: "GET", path: "/admin/tenants/acme/tasks/task-1" });
    expect(
      list.render({
        data: [
          {
            id: "task-1",
            status: "completed",
            sub: "u1",
            created: 1_790_000_000,
            credits_reserved: 23.8,
            credits_used: 23.8,
            upstream_id: "task-unified-up-1",
          },
        ],
        total: 21,
        page: 2,
        page_size: 20,
      }),
    ).toMatch(
      /^task-1\s+completed\s+u1\s+2026-09-21 \d\d:\d\d:\d\dZ\s+23\.8\s+23\.8\s+task-unified-up-1\n\npage 2 of 2 \(21 tasks\)$/m,
    );
    expect(detail.render({ id: "task-1", upstream_id: "up-9", status: "processing", progress: 40 })).toMatch(
      /^upstream_id\s+up-9\n.*status\s+processing \(40%\)/m,
    );
  });

  it("tasks delete deletes an ended task and its kept results, then reports the 404", async () => {
    expect(await plan(parseArgs(["tasks", "delete", "acme", "task-1"]), async () => "")).toMatchObject({
      method: "DELETE",
      path: "/admin/tenants/acme/tasks/task-1",
    });
    await expect(plan(parseArgs(["tasks", "delete", "acme"]), async () => "")).rejects.toThrow(
      "missing <task>",
    );
    const t = await tenantWith();
    const c = await completed(t);
    await storedIs(t, c.id, true);
    const shown = await cli(["tasks", t.id, c.id]);
    expect(shown.out).toMatch(/^results\s+stored$/m);
    const usage = await cli(["usage", t.id]);
    expect(usage.out).toMatch(
      new RegExp(`^kept results: ${BYTES} bytes stored now \\(no limit\\), \\d+ byte-days this month$`, "m"),
    );
    expect(usage.out).toMatch(new RegExp(`^user-1\\s+${BYTES}\\s+\\d+$`, "m"));
    const res = await cli(["tasks", "delete", t.id, c.id]);
    expect(res).toMatchObject({ code: 0, out: `deleted ${c.id} and its kept results` });
    expect(res.requests).toEqual([
      { url: `${GATEWAY}/admin/tenants/${t.id}/tasks/${c.id}`, method: "DELETE" },
    ]);
    const again = await cli(["tasks", "delete", t.id, c.id]);
    expect(again).toMatchObject({
      code: 1,
      err: "error: task_not_found: No such task (param: task_id) [HTTP 404]",
    });
  });

  it("reports the API's answer for an unknown tenant with its code and exit 1", async () => {
    const res = await cli(["tasks", "no-such-tenant-here"]);
    expect(res.code).toBe(1);
    expect(res.err).toMatch(/^error: (tenant_not_found|not_found): .+ \[HTTP 404\]$/);
  });
});
