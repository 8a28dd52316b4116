// Upstreams as typed data, not branches: where a model's API lives, how the key is injected, which of the
// client's headers may be forwarded. Adding a provider is an entry here plus its model in ./models.ts.
export interface UpstreamProvider {
  id: string;
  /** Path of task creation and of the task query (`{id}` is replaced). */
  createPath: string;
  taskPath: string;
  /** Path of the operator's balance (./credits.ts). */
  creditsPath: string;
  /** Builds the auth header from the operator's key. The key never leaves this function's result. */
  authHeader(key: string): [string, string];
  /** Client request headers passed through unchanged (lower case). Everything else is dropped. */
  forwardHeaders: readonly string[];
  /** Which idempotency keys the upstream accepts. */
  idempotencyKey: RegExp;
}

export const EVOLINK: UpstreamProvider = {
  id: "evolink",
  createPath: "/v1/videos/generations",
  taskPath: "/v1/tasks/{id}",
  creditsPath: "/v1/credits",
  authHeader: (key) => ["authorization", `Bearer ${key}`],
  forwardHeaders: ["accept-language"],
  idempotencyKey: /^[A-Za-z0-9._-]{16,96}$/,
};
