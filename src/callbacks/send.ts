// One webhook attempt over HTTP: a signed POST with a timeout, redirects not followed, and the answer's
// body never read (only its status counts). Returns what happened and how long it took.
import type { AttemptResult } from "./retry";

export interface SentAttempt {
  result: AttemptResult;
  latencyMs: number;
}

export async function postWebhook(
  url: string,
  headers: Record<string, string>,
  body: string,
  timeoutMs: number,
): Promise<SentAttempt> {
  const started = Date.now();
  try {
    const res = await fetch(url, {
      method: "POST",
      headers: { ...headers, "content-type": "application/json", "user-agent": "reelgate-webhooks/0.1" },
      body,
      redirect: "manual",
      signal: AbortSignal.timeout(timeoutMs),
    });
    await res.body?.cancel().catch(() => undefined);
    return { result: { kind: "response", status: res.status }, latencyMs: Date.now() - started };
  } catch (err) {
    const timedOut = err instanceof Error && (err.name === "TimeoutError" || err.name === "AbortError");
    return { result: { kind: timedOut ? "timeout" : "network_error" }, latencyMs: Date.now() - started };
  }
}
