// Callback delivery as README §5 documents it: POST the task detail to callback_url when the task ends;
// a non-2xx answer or a network error is retried at most 3 times, 1/2/4 s (sim clock) after each failure;
// each attempt times out after 10 s (real time). Delivery only happens when the owner calls `deliverDue`.
import type { CallbackAttempt } from "./types";

export const CALLBACK_TIMEOUT_MS = 10_000;
/** Delay before retry n (1-based) after the previous attempt failed. */
export const CALLBACK_RETRY_DELAYS_MS = [1_000, 2_000, 4_000] as const;
export const CALLBACK_MAX_ATTEMPTS = 1 + CALLBACK_RETRY_DELAYS_MS.length;

export type Send = (request: Request) => Promise<Response>;

interface Delivery {
  taskId: string;
  url: string;
  attempt: number;
  dueAt: number;
  inFlight: boolean;
}

export class CallbackDispatcher {
  readonly log: CallbackAttempt[] = [];
  private queue: Delivery[] = [];

  constructor(
    private readonly send: Send,
    private readonly now: () => number,
  ) {}

  enqueue(taskId: string, url: string, dueAt: number): void {
    this.queue.push({ taskId, url, attempt: 1, dueAt, inFlight: false });
  }

  get pending(): number {
    return this.queue.length;
  }

  reset(): void {
    this.queue = [];
    this.log.length = 0;
  }

  /** Sends (or, when `drop`, discards) every delivery whose time has come; waits for them all. */
  async deliverDue(bodyFor: (taskId: string) => unknown, drop: boolean): Promise<void> {
    const now = this.now();
    const due = this.queue.filter((d) => !d.inFlight && d.dueAt <= now);
    await Promise.all(due.map((d) => (drop ? this.discard(d) : this.attempt(d, bodyFor(d.taskId)))));
  }

  private discard(delivery: Delivery): void {
    this.remove(delivery);
    this.record(delivery, { error: "dropped (fault injection: dropCallbacks)" });
  }

  private async attempt(delivery: Delivery, body: unknown): Promise<void> {
    delivery.inFlight = true;
    const outcome = await this.post(delivery.url, body);
    delivery.inFlight = false;
    this.record(delivery, outcome);
    const ok = outcome.status !== undefined && outcome.status >= 200 && outcome.status < 300;
    const retryDelay = CALLBACK_RETRY_DELAYS_MS[delivery.attempt - 1];
    if (ok || retryDelay === undefined) {
      this.remove(delivery);
      return;
    }
    delivery.attempt += 1;
    delivery.dueAt = this.now() + retryDelay;
  }

  private async post(url: string, body: unknown): Promise<{ status?: number; error?: string }> {
    const controller = new AbortController();
    const timer = setTimeout(
      () => controller.abort(new Error(`callback timed out after ${CALLBACK_TIMEOUT_MS} ms`)),
      CALLBACK_TIMEOUT_MS,
    );
    const timedOut = new Promise<never>((_, reject) =>
      controller.signal.addEventListener("abort", () => reject(controller.signal.reason), { once: true }),
    );
    try {
      const request = new Request(url, {
        method: "POST",
        headers: { "content-type": "application/json", "user-agent": "evolink-sim-callback/1" },
        body: JSON.stringify(body),
        signal: controller.signal,
      });
      const response = await Promise.race([this.send(request), timedOut]);
      await response.body?.cancel();
      return { status: response.status };
    } catch (err) {
      return { error: err instanceof Error ? err.message : String(err) };
    } finally {
      clearTimeout(timer);
    }
  }

  private record(delivery: Delivery, outcome: { status?: number; error?: string }): void {
    this.log.push({
      taskId: delivery.taskId,
      url: delivery.url,
      attempt: delivery.attempt,
      ...outcome,
      at: this.now(),
    });
  }

  private remove(delivery: Delivery): void {
    this.queue = this.queue.filter((d) => d !== delivery);
  }
}
