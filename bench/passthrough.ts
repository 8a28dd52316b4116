// The floor for any Worker proxy, for `npm run bench`: forwards the two EvoLink calls to the upstream with
// the operator's key injected and nothing else — no auth, no validation, no state. The gateway's figures
// are read against this Worker's, on the same runtime, so what remains is what the gateway itself costs.
interface PassthroughEnv {
  UPSTREAM_BASE_URL: string;
  UPSTREAM_API_KEY: string;
}

const CREATE_PATH = "/v1/videos/generations";
const TASK_PATH = /^\/v1\/tasks\/[^/]+$/;

export default {
  async fetch(request, env): Promise<Response> {
    const { pathname } = new URL(request.url);
    const create = request.method === "POST" && pathname === CREATE_PATH;
    const query = request.method === "GET" && TASK_PATH.test(pathname);
    if (!create && !query) return new Response("not found", { status: 404 });
    const headers = new Headers({ authorization: `Bearer ${env.UPSTREAM_API_KEY}` });
    if (create) headers.set("content-type", "application/json");
    const upstream = await fetch(`${env.UPSTREAM_BASE_URL}${pathname}`, {
      method: request.method,
      headers,
      body: create ? request.body : null,
    });
    return new Response(upstream.body, { status: upstream.status, headers: upstream.headers });
  },
} satisfies ExportedHandler<PassthroughEnv>;
