// The core of `reelgate-admin` (bin/reelgate-admin.mjs): argument parsing, the admin API request each
// command makes, and its rendering (tables for people, --json for scripts). No Node APIs here: the caller
// passes fetch, the environment, output and file reading, so tests run it against the real app in workerd.

export const USAGE = `usage: reelgate-admin <command> [options]

Commands:
  tenants list [--search Q] [--limit N] [--cursor C]   list tenants (search id, name, issuer; paging)
  tenants get <tenant>                                 show one tenant
  tenants put <tenant> -f tenant.json                  create or replace a tenant
  tenants delete <tenant> [--force]                    delete a tenant
  tenants suspend|resume <tenant>                      change a tenant's status
  rotate-secret <tenant>                               new webhook secret (shown once)
  usage <tenant> [--month YYYY-MM]                     credits per day, top users, in flight, storage
  deliveries <tenant> [--limit N] [--cursor C]         webhook delivery log
  redeliver <delivery>                                 send a delivery's event again
  tasks <tenant> [<task>] [--status S] [--page N]      a tenant's tasks, or one task
  tasks delete <tenant> <task>                         delete an ended task and its kept results

Options:
  --url URL      gateway base URL (default: $REELGATE_URL)
  --token T      admin token (default: $REELGATE_ADMIN_TOKEN)
  --json         print the API's JSON instead of a table
  -h, --help     this help`;

const FLAGS_WITH_VALUE = new Set([
  "url",
  "token",
  "search",
  "limit",
  "cursor",
  "month",
  "status",
  "page",
  "page-size",
  "f",
  "file",
]);
const BOOLEAN_FLAGS = new Set(["json", "force", "help", "h"]);

/** Calls a command makes while the answer says "not finished, call again" (its `repeatWhile` status). */
const MAX_REPEATS = 50;

export class UsageError extends Error {}

/** argv → { positionals, flags }; unknown flags and missing values are usage errors. */
export function parseArgs(argv) {
  const positionals = [];
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    const m = /^--?([a-z-]+)(?:=(.*))?$/.exec(arg);
    if (!m || arg === "-") {
      positionals.push(arg);
      continue;
    }
    const [, name, inline] = m;
    if (BOOLEAN_FLAGS.has(name)) {
      if (inline !== undefined) throw new UsageError(`--${name} takes no value`);
      flags[name === "h" ? "help" : name] = true;
    } else if (FLAGS_WITH_VALUE.has(name)) {
      const value = inline ?? argv[++i];
      if (value === undefined) throw new UsageError(`--${name} needs a value`);
      flags[name === "f" ? "file" : name] = value;
    } else throw new UsageError(`unknown option ${arg}`);
  }
  return { positionals, flags };
}

const enc = encodeURIComponent;
const q = (params) => {
  const s = new URLSearchParams(
    Object.entries(params).filter(([, v]) => v !== undefined && v !== ""),
  ).toString();
  return s ? `?${s}` : "";
};

function need(value, what) {
  if (!value) throw new UsageError(`missing <${what}>`);
  return value;
}

/**
 * The request a command makes: { method, path, body?, repeatWhile?, render }. `readFile` is only called for `put`.
 * Exported so tests can check the request built for each command without a server.
 */
export async function plan({ positionals, flags }, readFile) {
  const [cmd, a, b, c] = positionals;
  switch (cmd) {
    case "tenants": {
      switch (a) {
        case "list":
          return {
            method: "GET",
            path: `/admin/tenants${q({ q: flags.search, limit: flags.limit, cursor: flags.cursor })}`,
            render: renderTenantList,
          };
        case "get":
          return { method: "GET", path: `/admin/tenants/${enc(need(b, "tenant"))}`, render: renderTenant };
        case "put": {
          const file = need(flags.file, "-f tenant.json");
          let body;
          try {
            body = JSON.parse(await readFile(file));
          } catch (err) {
            throw new UsageError(`cannot read ${file} as JSON: ${err.message}`);
          }
          const id = b ?? body.id;
          if (body && typeof body === "object") delete body.id;
          return {
            method: "PUT",
            path: `/admin/tenants/${enc(need(id, "tenant"))}`,
            body,
            render: renderTenant,
          };
        }
        case "delete":
          return {
            method: "DELETE",
            path: `/admin/tenants/${enc(need(b, "tenant"))}${flags.force ? "?force=true" : ""}`,
            // 202: stored files remain and the tenant still exists; each call deletes more.
            repeatWhile: 202,
            render: (d) =>
              d?.status === "deleting"
                ? `still deleting ${b}: stored files remain, run the command again`
                : `deleted ${b}`,
          };
        case "suspend":
        case "resume":
          return {
            method: "POST",
            path: `/admin/tenants/${enc(need(b, "tenant"))}/${a}`,
            render: renderTenant,
          };
        default:
          throw new UsageError(`tenants takes list, get, put, delete, suspend or resume`);
      }
    }
    case "rotate-secret":
      return {
        method: "POST",
        path: `/admin/tenants/${enc(need(a, "tenant"))}/webhook-secret/rotate`,
        render: (t) => `${renderTenant(t)}\n\nnew webhook secret (shown once): ${t.webhook?.secret}`,
      };
    case "usage":
      if (flags.month !== undefined && !/^\d{4}-\d{2}$/.test(flags.month))
        throw new UsageError("--month takes YYYY-MM");
      return {
        method: "GET",
        path: `/admin/tenants/${enc(need(a, "tenant"))}/usage/daily${q({ month: flags.month })}`,
        render: renderUsage,
      };
    case "deliveries":
      return {
        method: "GET",
        path: `/admin/tenants/${enc(need(a, "tenant"))}/deliveries${q({ limit: flags.limit, cursor: flags.cursor })}`,
        render: renderDeliveries,
      };
    case "redeliver":
      return {
        method: "POST",
        path: `/admin/deliveries/${enc(need(a, "delivery"))}/redeliver`,
        render: (r) => `redelivery of ${r.delivery_id} (event ${r.event_id}): ${r.status}`,
      };
    case "tasks":
      // `tasks delete <tenant> <task>`; `tasks delete` alone still lists a tenant named "delete".
      if (a === "delete" && b !== undefined)
        return {
          method: "DELETE",
          path: `/admin/tenants/${enc(b)}/tasks/${enc(need(c, "task"))}`,
          render: (d) => `deleted ${d.id} and its kept results`,
        };
      if (b)
        return {
          method: "GET",
          path: `/admin/tenants/${enc(need(a, "tenant"))}/tasks/${enc(b)}`,
          render: renderTask,
        };
      return {
        method: "GET",
        path: `/admin/tenants/${enc(need(a, "tenant"))}/tasks${q({ status: flags.status, page: flags.page, page_size: flags["page-size"] })}`,
        render: renderTasks,
      };
    default:
      throw new UsageError(cmd ? `unknown command ${cmd}` : "missing <command>");
  }
}

/** Runs one command; returns the exit code (0 ok, 1 API or network error, 2 usage error). */
export async function run(argv, io) {
  let parsed;
  let request;
  try {
    parsed = parseArgs(argv);
    if (parsed.flags.help || parsed.positionals.length === 0) {
      io.out(USAGE);
      return parsed.flags.help ? 0 : 2;
    }
    request = await plan(parsed, io.readFile);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`reelgate-admin: ${err.message}\n\n${USAGE}`);
    return 2;
  }
  const base = parsed.flags.url ?? io.env.REELGATE_URL;
  const token = parsed.flags.token ?? io.env.REELGATE_ADMIN_TOKEN;
  if (!base || !token) {
    io.err("reelgate-admin: set REELGATE_URL and REELGATE_ADMIN_TOKEN (or pass --url and --token)");
    return 2;
  }
  let res;
  try {
    for (let call = 1; ; call++) {
      res = await io.fetch(new URL(request.path, base).href, {
        method: request.method,
        headers: {
          authorization: `Bearer ${token}`,
          ...(request.body !== undefined ? { "content-type": "application/json" } : {}),
        },
        body: request.body === undefined ? undefined : JSON.stringify(request.body),
      });
      if (res.status !== request.repeatWhile || call === MAX_REPEATS) break;
      await res.body?.cancel();
    }
  } catch (err) {
    io.err(`reelgate-admin: cannot reach ${base}: ${err.message}`);
    return 1;
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    // not JSON: reported below when the status is an error
  }
  if (!res.ok) {
    const e = data?.error;
    if (parsed.flags.json && e) io.out(JSON.stringify(data, null, 2));
    io.err(
      e
        ? `error: ${e.code}: ${e.message}${e.param ? ` (param: ${e.param})` : ""} [HTTP ${res.status}]`
        : `error: HTTP ${res.status}: ${text.slice(0, 200)}`,
    );
    return 1;
  }
  io.out(parsed.flags.json ? JSON.stringify(data, null, 2) : request.render(data));
  return 0;
}

// --- Rendering for people.

/** A plain aligned table; every cell is text, null shows as "-". */
export function table(headers, rows) {
  const cells = rows.map((r) => r.map((c) => (c === null || c === undefined ? "-" : String(c))));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i].length)));
  const line = (r) =>
    r
      .map((c, i) => c.padEnd(widths[i]))
      .join("  ")
      .trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...cells.map(line)].join("\n");
}

const time = (iso) => (iso ? iso.replace("T", " ").replace(/\.\d+Z$/, "Z") : null);
const unix = (s) => (s == null ? null : time(new Date(s * 1000).toISOString()));

function renderTenantList(page) {
  const out = table(
    ["ID", "NAME", "STATUS", "ISSUER"],
    page.data.map((t) => [t.id, t.name, t.status, t.issuer]),
  );
  return page.cursor ? `${out}\n\nmore: --cursor ${page.cursor}` : out;
}

function renderTenant(t) {
  const rows = [
    ["id", t.id],
    ["name", t.name],
    ["status", t.status],
    ["issuer", t.auth?.issuer],
    ["audience", [].concat(t.auth?.audience ?? []).join(", ")],
    ["keys", t.auth?.key_source],
    ["webhook", t.webhook?.url ?? "none"],
    ["quotas", JSON.stringify(t.quotas ?? {})],
    ["user_quotas", JSON.stringify(t.user_quotas ?? {})],
    ["updated", time(t.updated_at)],
  ];
  return rows.map(([k, v]) => `${k.padEnd(12)} ${v ?? "-"}`).join("\n");
}

function renderUsage(u) {
  const days = u.days.filter((d) => d.tasks_created > 0);
  const sum = (k) => Math.round(u.days.reduce((s, d) => s + d[k], 0) * 100) / 100;
  const limit = (v, l) => `${v}${l == null ? " (no limit)" : ` / ${l}`}`;
  return [
    `${u.tenant_id} ${u.month}: ${sum("credits_charged")} credits charged, ${sum("credits_reserved")} reserved, ${sum("tasks_created")} tasks`,
    `in flight: ${limit(u.in_flight.tasks, u.in_flight.limit)}   requests last minute: ${limit(u.requests.last_minute, u.requests.limit)}`,
    `kept results: ${u.result_storage.bytes} bytes stored now${u.result_storage.limit == null ? " (no limit)" : ` of ${u.result_storage.limit}`}, ${u.result_storage.byte_days} byte-days this month`,
    "",
    days.length
      ? table(
          ["DATE", "RESERVED", "CHARGED", "HELD", "CREATED", "ENDED"],
          days.map((d) => [
            d.date,
            d.credits_reserved,
            d.credits_charged,
            d.credits_held,
            d.tasks_created,
            d.tasks_ended,
          ]),
        )
      : "no tasks this month",
    "",
    u.top_users.length
      ? table(
          ["USER", "CHARGED", "RESERVED", "TASKS"],
          u.top_users.map((x) => [x.sub, x.credits_charged, x.credits_reserved, x.tasks]),
        )
      : "no user-attributed tasks",
    ...(u.result_storage.users.length
      ? [
          "",
          table(
            ["USER", "BYTES STORED", "BYTE-DAYS"],
            u.result_storage.users.map((x) => [x.sub, x.bytes, x.byte_days]),
          ),
        ]
      : []),
  ].join("\n");
}

function renderDeliveries(page) {
  const out = table(
    ["TIME", "DELIVERY", "TASK", "ATTEMPT", "CODE", "LATENCY", "OUTCOME"],
    page.data.map((d) => [
      time(d.attempted_at),
      d.id,
      d.task_id,
      d.attempt ?? "dlq",
      d.status_code,
      d.latency_ms == null ? null : `${d.latency_ms}ms`,
      d.outcome,
    ]),
  );
  return page.cursor ? `${out}\n\nolder: --cursor ${page.cursor}` : out;
}

function renderTasks(page) {
  const out = table(
    ["TASK", "STATUS", "USER", "CREATED", "RESERVED", "CHARGED", "UPSTREAM"],
    page.data.map((t) => [
      t.id,
      t.status,
      t.sub,
      unix(t.created),
      t.credits_reserved,
      t.credits_used,
      t.upstream_id,
    ]),
  );
  return `${out}\n\npage ${page.page} of ${Math.max(1, Math.ceil(page.total / page.page_size))} (${page.total} tasks)`;
}

function renderTask(t) {
  return [
    ["id", t.id],
    ["upstream_id", t.upstream_id],
    ["status", t.progress != null ? `${t.status} (${t.progress}%)` : t.status],
    ["sub", t.sub],
    ["model", t.model],
    ["created", unix(t.created)],
    ["ended", unix(t.ended)],
    ["reserved", t.credits_reserved],
    ["charged", t.credits_used],
    ["callback_url", t.callback_url],
    ["error", t.error ? JSON.stringify(t.error) : null],
    [
      "results",
      t.results_stored == null ? null : t.results_stored ? "stored" : `not stored (${t.results_not_stored})`,
    ],
  ]
    .map(([k, v]) => `${k.padEnd(13)} ${v ?? "-"}`)
    .join("\n");
}
