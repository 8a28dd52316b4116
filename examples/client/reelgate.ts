// A typed reelgate client for a frontend or a backend: openapi-fetch over the types openapi-typescript
// generates from the gateway's OpenAPI document (openapi/tenant.d.ts; regenerate with
// `npx openapi-typescript https://<gateway>/openapi.json -o reelgate-api.d.ts`). Copy this file.
import createClient from "openapi-fetch";
import type { components, paths } from "../../openapi/tenant";

export type ReelgateClient = ReturnType<typeof createReelgateClient>;

export interface ReelgateClientOptions {
  /** The gateway, e.g. https://video.example.com (no trailing slash). */
  baseUrl: string;
  /** The user's tenant JWT, minted by your backend (see ./tokens.ts); called before every request. */
  token: () => string | Promise<string>;
  /** Another fetch (tests, a proxy); the global one by default. */
  fetch?: (request: Request) => Promise<Response>;
}

export function createReelgateClient(options: ReelgateClientOptions) {
  const client = createClient<paths>({
    baseUrl: options.baseUrl,
    ...(options.fetch ? { fetch: options.fetch } : {}),
  });
  client.use({
    async onRequest({ request }) {
      request.headers.set("Authorization", `Bearer ${await options.token()}`);
      return request;
    },
  });
  return client;
}

/** The error body every non-2xx answer carries: branch on `error.code`. */
export type ReelgateError = components["schemas"]["Error"];

/** Polls a task until it ends (completed, failed or cancelled), or throws after `timeoutMs`. */
export async function waitForTask(
  client: ReelgateClient,
  taskId: string,
  { intervalMs = 8_000, timeoutMs = 15 * 60_000, sleep = defaultSleep } = {},
) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { data, error } = await client.GET("/v1/tasks/{task_id}", {
      params: { path: { task_id: taskId } },
    });
    if (error) throw new Error(`task ${taskId}: ${error.error.code}: ${error.error.message}`);
    if (["completed", "failed", "cancelled"].includes(data.status)) return data;
    if (Date.now() > deadline) throw new Error(`task ${taskId} still ${data.status} after ${timeoutMs} ms`);
    await sleep(intervalMs);
  }
}

function defaultSleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
