// The front page: the operator's EvoLink balance, then the tenants list (search by id, name or issuer, cursor paging) and the create/edit form, whose API errors are
// shown next to the field their `param` names.
import { useEffect, useRef, useState } from "preact/hooks";
import { api, enc } from "./api.js";
import { CursorPager, ErrorBox, Loading, Status, html, navigate, useLoad } from "./ui.js";
import { Upstream } from "./upstream.js";

const PAGE = 20;

export function TenantList({ query }) {
  const q = query.get("q") ?? "";
  const [cursors, setCursors] = useState([null]);
  const [search, setSearch] = useState(q);
  const cursor = cursors[cursors.length - 1];
  const { data, error, loading } = useLoad(
    () => api("/admin/tenants", { query: { limit: PAGE, q: q || undefined, cursor: cursor ?? undefined } }),
    [q, cursor],
  );
  function submit(e) {
    e.preventDefault();
    setCursors([null]);
    navigate(`#/tenants${search ? `?q=${enc(search.trim())}` : ""}`);
  }
  return html`<section aria-labelledby="tenants-title">
    <div class="row">
      <h1 id="tenants-title">Tenants</h1>
      <a class="button" href="#/tenants/new">New tenant</a>
    </div>
    <${Upstream} />
    <form class="search" role="search" onSubmit=${submit}>
      <label for="tenant-search">Search by id, name or issuer</label>
      <input
        id="tenant-search"
        type="search"
        placeholder="id, name or issuer"
        value=${search}
        onInput=${(e) => setSearch(e.currentTarget.value)}
      />
      <button type="submit">Search</button>
    </form>
    <${ErrorBox} error=${error} />
    ${loading && html`<${Loading} what="tenants" />`}
    ${
      data &&
      html`<${TenantTable} tenants=${data.data} q=${q} />
        ${data.data.length === 0 && html`<p class="notice">No tenants${q ? ` whose id starts with “${q}”` : ""}.</p>`}
        <${CursorPager}
          label="Tenant pages"
          back="Previous"
          forward="Next"
          showPage
          cursors=${cursors}
          setCursors=${setCursors}
          next=${data.cursor}
        />`
    }
  </section>`;
}

function TenantTable({ tenants, q }) {
  return html`<table>
    <caption class="sr-only">
      Tenants${q ? ` matching ${q}` : ""}
    </caption>
    <thead>
      <tr>
        <th scope="col">Id</th>
        <th scope="col">Name</th>
        <th scope="col">Status</th>
        <th scope="col">Issuer</th>
      </tr>
    </thead>
    <tbody>
      ${tenants.map(
        (t) =>
          html`<tr>
            <td><a href=${`#/tenants/${enc(t.id)}`}>${t.id}</a></td>
            <td>${t.name}</td>
            <td><${Status} value=${t.status} /></td>
            <td class="mono">${t.issuer}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/** Form fields: the API `param` each one answers for, and how its value goes into the body. */
const FIELDS = [
  ["tenant_id", "Tenant id"],
  ["name", "Name"],
  ["status", "Status"],
  ["auth.issuer", "Issuer (iss)"],
  ["auth.audience", "Audience (aud), comma-separated"],
  ["auth.algorithms", "Algorithms, comma-separated (optional)"],
  ["auth.jwks_uri", "Key set URL (jwks_uri)"],
  ["auth.jwks", "Key set (JWKS JSON)"],
  ["auth.hs256_secret", "HS256 secret"],
  ["auth.require_sub", "Tokens without sub (require_sub)"],
  ["quotas.requests_per_minute", "Requests per minute"],
  ["quotas.max_concurrent_tasks", "Tasks in flight"],
  ["quotas.monthly_credits", "Credits per month"],
  ["quotas.alert_thresholds", "Alert thresholds (% of credits per month), comma-separated"],
  ["user_quotas.requests_per_minute", "Requests per minute"],
  ["user_quotas.max_concurrent_tasks", "Tasks in flight"],
  ["user_quotas.monthly_credits", "Credits per month"],
  ["user_quotas.alert_thresholds", "Alert thresholds (% of credits per month), comma-separated"],
  ["webhook.url", "Webhook URL"],
  ["portal.frame_ancestors", "Portal: origins that may embed it, comma-separated"],
  ["policy", "Policy (JSON, optional)"],
];
const LABEL = Object.fromEntries(FIELDS);
const fieldId = (param) => `f-${param.replace(/[^a-z0-9]+/gi, "-")}`;

/** The field an API error belongs to: the longest field param that the error's param starts with. */
export function fieldFor(param) {
  if (!param) return null;
  if (param === "auth") return "auth.key";
  let best = null;
  for (const [p] of FIELDS)
    if (
      (param === p || param.startsWith(`${p}.`) || param.startsWith(`${p}[`)) &&
      (!best || p.length > best.length)
    )
      best = p;
  return best;
}

function initialValues(t) {
  const v = { key: "hs256_secret", "auth.require_sub": "accepted" };
  if (!t) return { ...v, status: "active" };
  v.tenant_id = t.id;
  v.name = t.name;
  v.status = t.status;
  v["auth.issuer"] = t.auth.issuer;
  v["auth.audience"] = [].concat(t.auth.audience).join(", ");
  v["auth.algorithms"] = (t.auth.algorithms ?? []).join(", ");
  v.key = t.auth.key_source;
  v["auth.jwks_uri"] = t.auth.jwks_uri ?? "";
  v["auth.jwks"] = t.auth.jwks ? JSON.stringify(t.auth.jwks, null, 2) : "";
  v["auth.require_sub"] = t.auth.require_sub ? "refused" : "accepted";
  for (const scope of ["quotas", "user_quotas"]) {
    for (const k of ["requests_per_minute", "max_concurrent_tasks", "monthly_credits"])
      v[`${scope}.${k}`] = t[scope]?.[k] ?? "";
    // An empty list (no alerts) is "none", so that a save does not turn it into the default.
    const a = t[scope]?.alert_thresholds;
    v[`${scope}.alert_thresholds`] = a ? a.join(", ") || "none" : "";
  }
  v["webhook.url"] = t.webhook?.url ?? "";
  // Carried through every edit, as the PUT replaces the record's client fields.
  v["portal.frame_ancestors"] = (t.portal?.frame_ancestors ?? []).join(", ");
  v.policy = t.policy ? JSON.stringify(t.policy, null, 2) : "";
  return v;
}

/** The PUT body from the form's values; a JSON field that does not parse is a local field error. */
export function bodyOf(v) {
  const list = (s) =>
    String(s ?? "")
      .split(",")
      .map((x) => x.trim())
      .filter(Boolean);
  const json = (param) => {
    try {
      return JSON.parse(v[param]);
    } catch {
      throw Object.assign(new Error("must be valid JSON"), { code: "invalid_json", param });
    }
  };
  const audience = list(v["auth.audience"]);
  const algorithms = list(v["auth.algorithms"]);
  const auth = {
    issuer: v["auth.issuer"] ?? "",
    audience: audience.length === 1 ? audience[0] : audience,
    ...(algorithms.length ? { algorithms } : {}),
    // Carried through every edit: a save from the console must never switch this protection off.
    ...(v["auth.require_sub"] === "refused" ? { require_sub: true } : {}),
  };
  if (v.key === "jwks_uri") auth.jwks_uri = v["auth.jwks_uri"] ?? "";
  else if (v.key === "jwks") auth.jwks = json("auth.jwks");
  else auth.hs256_secret = v["auth.hs256_secret"] ?? "";
  const body = { name: v.name ?? "", status: v.status ?? "active", auth };
  for (const scope of ["quotas", "user_quotas"]) {
    const q = {};
    for (const k of ["requests_per_minute", "max_concurrent_tasks", "monthly_credits"]) {
      const raw = v[`${scope}.${k}`];
      if (raw !== undefined && raw !== "") q[k] = Number(raw);
    }
    const a = thresholds(v, `${scope}.alert_thresholds`);
    if (a) q.alert_thresholds = a;
    if (Object.keys(q).length) body[scope] = q;
  }
  if (v["webhook.url"]) body.webhook = { url: v["webhook.url"] };
  const ancestors = list(v["portal.frame_ancestors"]);
  if (ancestors.length) body.portal = { frame_ancestors: ancestors };
  if (v.policy && v.policy.trim()) body.policy = json("policy");
  return body;
}

/**
 * "50, 80, 100" as [50, 80, 100], put in order without repeats; "none" as [] (no alerts); empty as undefined
 * (the default, 80 and 100). Anything but whole percentages is a local field error; the API checks the rest.
 */
export function thresholds(v, param) {
  const raw = String(v[param] ?? "").trim();
  if (!raw) return undefined;
  if (raw.toLowerCase() === "none") return [];
  const parts = raw.split(",").map((x) => x.trim().replace(/%$/, ""));
  if (!parts.every((x) => /^\d+$/.test(x) && x > 0 && x <= 1000))
    throw Object.assign(new Error("must be whole percentages from 1 to 1000, e.g. 50, 80, 100 (or none)"), {
      code: "invalid_request",
      param,
    });
  return [...new Set(parts.map(Number))].sort((a, b) => a - b);
}

export function TenantForm({ tenant }) {
  const editing = Boolean(tenant);
  const [values, setValues] = useState(() => initialValues(tenant));
  const { error, saved, busy, submit } = useSave(values);
  const formRef = useRef(null);
  const errorField = error && fieldFor(error.param);

  // The field at fault gets the focus once its error is on screen (the form's summary otherwise).
  useEffect(() => {
    if (error) formRef.current?.querySelector(`#${fieldId(errorField ?? "none")}`)?.focus();
  }, [error]);

  const set = (param) => (e) => setValues({ ...values, [param]: e.currentTarget.value });

  if (saved?.webhook?.secret) return html`<${SavedOnce} saved=${saved} editing=${editing} />`;

  const field = fieldMaker({ values, set, error, errorField });
  const keyError = errorField === "auth.key" ? error : null;
  return html`<section aria-labelledby="form-title">
    <h1 id="form-title">${editing ? `Edit ${tenant.id}` : "New tenant"}</h1>
    <form ref=${formRef} onSubmit=${submit} novalidate>
      ${error && !errorField && html`<${ErrorBox} error=${error} />`}
      <${TenantFields} field=${field} editing=${editing} />
      <${TokenFields} field=${field} editing=${editing} values=${values} set=${set} keyError=${keyError} />
      <${LimitFields} field=${field} scope="quotas" legend="Tenant limits (empty: unlimited)" />
      <${LimitFields} field=${field} scope="user_quotas" legend="Per-user limits (empty: unlimited)" />
      <${WebhookFields} field=${field} />
      <button type="submit" disabled=${busy}>${editing ? "Save" : "Create tenant"}</button>
    </form>
  </section>`;
}

/** The form's submit: a PUT of `values` (a tenant id required first), busy meanwhile; then saved or error. */
function useSave(values) {
  const [error, setError] = useState(null);
  const [saved, setSaved] = useState(null);
  const [busy, setBusy] = useState(false);

  async function submit(e) {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const id = (values.tenant_id ?? "").trim();
      if (!id)
        throw Object.assign(new Error("a tenant id is required"), {
          code: "invalid_request",
          param: "tenant_id",
        });
      const res = await api(`/admin/tenants/${enc(id)}`, { method: "PUT", body: bodyOf(values) });
      setSaved(res);
      if (!res.webhook?.secret) navigate(`#/tenants/${enc(res.id)}`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return { error, saved, busy, submit };
}

/** After a save that returned the webhook secret: the secret, shown this once, and a link to the tenant. */
function SavedOnce({ saved, editing }) {
  return html`<section aria-labelledby="saved-title">
    <h1 id="saved-title">Tenant ${saved.id} ${editing ? "saved" : "created"}</h1>
    <${SecretOnce} secret=${saved.webhook.secret} />
    <a class="button" href=${`#/tenants/${enc(saved.id)}`}>Open ${saved.id}</a>
  </section>`;
}

/**
 * `field(param, options)` for the form's current values and error: a labelled input, select or textarea,
 * with its hint, and with the API's error when the error's param names this field.
 */
function fieldMaker({ values, set, error, errorField }) {
  return function field(param, { type = "text", textarea = false, options, disabled = false, hint } = {}) {
    const id = fieldId(param);
    const invalid = errorField === param;
    const described = [hint && `${id}-hint`, invalid && `${id}-error`].filter(Boolean).join(" ") || undefined;
    const common = {
      id,
      name: param,
      value: values[param] ?? "",
      onInput: set(param),
      disabled,
      "aria-invalid": invalid ? "true" : undefined,
      "aria-describedby": described,
    };
    return html`<div class=${`field${invalid ? " invalid" : ""}`}>
      <label for=${id}>${LABEL[param]}</label>
      ${hint && html`<p class="hint" id=${`${id}-hint`}>${hint}</p>`}
      ${
        options
          ? html`<select ...${common} onChange=${set(param)}>
              ${options.map((o) => html`<option value=${o}>${o}</option>`)}
            </select>`
          : textarea
            ? html`<textarea rows="5" ...${common} />`
            : html`<input type=${type} ...${common} />`
      }
      ${invalid && html`<p class="field-error" id=${`${id}-error`} role="alert">${error.message}</p>`}
    </div>`;
  };
}

function TenantFields({ field, editing }) {
  return html`<fieldset>
    <legend>Tenant</legend>
    ${field("tenant_id", { disabled: editing, hint: "Lowercase letters, digits, - and _; cannot change later." })}
    ${field("name")} ${field("status", { options: ["active", "suspended"] })}
  </fieldset>`;
}

/** Issuer, audience and algorithms, then the key source; only the chosen source's field is shown. */
function TokenFields({ field, editing, values, set, keyError }) {
  return html`<fieldset>
    <legend>Tokens</legend>
    ${field("auth.issuer", { hint: "The iss claim of the tenant's JWTs; one tenant per issuer." })}
    ${field("auth.audience")} ${field("auth.algorithms")}
    <${KeySource} value=${values.key} onChange=${set("key")} error=${keyError} />
    ${
      values.key === "hs256_secret" &&
      field("auth.hs256_secret", {
        type: "password",
        hint: editing ? "Secrets are never shown: enter it again to save." : "At least 32 bytes.",
      })
    }
    ${values.key === "jwks_uri" && field("auth.jwks_uri", { type: "url" })}
    ${values.key === "jwks" && field("auth.jwks", { textarea: true })}
    ${field("auth.require_sub", {
      options: ["accepted", "refused"],
      hint: "A token without sub acts for the whole tenant (its backend). Refuse them when every token comes from an identity provider.",
    })}
  </fieldset>`;
}

/** The key source radios; an API error about `auth` as a whole (not exactly one key source) shows here. */
function KeySource({ value, onChange, error }) {
  return html`<div class=${`field${error ? " invalid" : ""}`} role="radiogroup" aria-labelledby="key-legend">
    <p id="key-legend" class="label">Keys</p>
    ${[
      ["hs256_secret", "Shared HS256 secret"],
      ["jwks_uri", "Key set URL"],
      ["jwks", "Inline key set"],
    ].map(
      ([k, label]) =>
        html`<label class="inline">
          <input type="radio" name="key" value=${k} checked=${value === k} onChange=${onChange} />
          ${label}
        </label>`,
    )}
    ${error && html`<p class="field-error" role="alert">${error.message}</p>`}
  </div>`;
}

/** A scope's limits, `quotas` (the tenant's) or `user_quotas` (each user's). */
function LimitFields({ field, scope, legend }) {
  return html`<fieldset>
    <legend>${legend}</legend>
    ${field(`${scope}.requests_per_minute`, { type: "number" })}
    ${field(`${scope}.max_concurrent_tasks`, { type: "number" })}
    ${field(`${scope}.monthly_credits`, { type: "number" })}
    ${field(`${scope}.alert_thresholds`, {
      hint: "A quota.threshold webhook the first time each month that credits used and reserved reach each one. Empty: 80, 100; none: no alerts.",
    })}
  </fieldset>`;
}

function WebhookFields({ field }) {
  return html`<fieldset>
    <legend>Webhook and policy</legend>
    ${field("webhook.url", { type: "url", hint: "Where task-ended events are POSTed (https)." })}
    ${field("portal.frame_ancestors", {
      hint: "The tenant portal's page may be framed by these https origins only (e.g. https://app.partner.example). Empty: by none.",
    })}
    ${field("policy", { textarea: true, hint: 'e.g. {"allowed_qualities":["720p"],"max_duration":5}' })}
  </fieldset>`;
}

/** A secret the API shows once: with a copy button, and said plainly that it will not be shown again. */
export function SecretOnce({ secret }) {
  const [copied, setCopied] = useState(false);
  async function copy() {
    try {
      await navigator.clipboard.writeText(secret);
      setCopied(true);
    } catch {
      document.getElementById("secret-value")?.select();
      setCopied(false);
    }
  }
  return html`<div class="secret" role="status">
    <label for="secret-value">Webhook signing secret: shown once, copy it now</label>
    <div class="row">
      <input
        id="secret-value"
        class="mono"
        readonly
        value=${secret}
        onFocus=${(e) => e.currentTarget.select()}
      />
      <button type="button" onClick=${copy}>Copy</button>
    </div>
    <p aria-live="polite">${copied ? "Copied to the clipboard." : ""}</p>
  </div>`;
}

export async function loadTenant(id) {
  return api(`/admin/tenants/${enc(id)}`);
}

export function EditTenant({ id }) {
  const { data, error, loading } = useLoad(() => loadTenant(id), [id]);
  if (loading) return html`<${Loading} what="the tenant" />`;
  if (error) return html`<${ErrorBox} error=${error} />`;
  return html`<${TenantForm} tenant=${data} />`;
}
