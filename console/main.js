// The operator's console: a token gate, then the tenants pages. Routes live in the URL hash
// (#/tenants, #/tenants/new, #/tenants/{id}/{overview|edit|usage|deliveries|tasks}[/{task}]).
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, token, whenUnauthorized } from "./api.js";
import { TenantPage } from "./tenant.js";
import { TenantForm, TenantList } from "./tenants.js";
import { ErrorBox, html, useRoute } from "./ui.js";
import "./style.css";

function TokenGate({ onReady, refused }) {
  const [value, setValue] = useState("");
  const [error, setError] = useState(refused);
  async function submit(e) {
    e.preventDefault();
    token.set(value.trim());
    try {
      await api("/admin/tenants", { query: { limit: 1 } });
      onReady();
    } catch (err) {
      token.clear();
      setError(err);
    }
  }
  return html`<main id="main" class="gate">
    <h1>reelgate console</h1>
    <form onSubmit=${submit}>
      <label for="admin-token">Admin token</label>
      <p class="hint" id="admin-token-hint">
        The gateway's ADMIN_TOKEN. Kept in this tab's session storage only, sent as a bearer token.
      </p>
      <input
        id="admin-token"
        type="password"
        autocomplete="off"
        required
        aria-describedby="admin-token-hint"
        value=${value}
        onInput=${(e) => setValue(e.currentTarget.value)}
      />
      <button type="submit">Sign in</button>
    </form>
    <${ErrorBox} error=${error} />
  </main>`;
}

function App() {
  const [signedIn, setSignedIn] = useState(Boolean(token.get()));
  const [refused, setRefused] = useState(null);
  const { parts, query } = useRoute();
  useEffect(() => {
    whenUnauthorized((err) => {
      token.clear();
      setRefused(err);
      setSignedIn(false);
    });
  }, []);
  if (!signedIn) return html`<${TokenGate} refused=${refused} onReady=${() => setSignedIn(true)} />`;

  let page;
  if (parts[0] === "tenants" && parts[1] === "new") page = html`<${TenantForm} />`;
  else if (parts[0] === "tenants" && parts[1])
    page = html`<${TenantPage}
      id=${parts[1]}
      tab=${parts[2] ?? "overview"}
      sub=${parts[3]}
      query=${query}
    />`;
  else page = html`<${TenantList} query=${query} />`;

  return html`<div>
    <a class="skip" href="#main" onClick=${skip}>Skip to content</a>
    <header class="top">
      <a class="brand" href="#/tenants">reelgate console</a>
      <nav aria-label="Main"><a href="#/tenants">Tenants</a> <a href="#/tenants/new">New tenant</a></nav>
      <button
        class="link"
        type="button"
        onClick=${() => {
          token.clear();
          setSignedIn(false);
        }}
      >
        Sign out
      </button>
    </header>
    <main id="main" tabindex="-1">${page}</main>
  </div>`;
}

function skip(e) {
  e.preventDefault();
  document.getElementById("main")?.focus();
}

const root = document.getElementById("app");
root.textContent = "";
render(html`<${App} />`, root);
