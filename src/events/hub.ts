// One hub per task per isolate: what this isolate knows of a task that has open event streams, shared by all
// of them, so a thousand streams on one task cost what one does. The Workers runtime lets no request touch
// another request's I/O objects, and stops a request's timers when it ends: a hub can neither write to its
// streams nor run a loop of its own. So it holds plain data and the streams come to it. Each stream looks at
// its hub every EVENT_STREAM_TICK_MS (memory only); the first to find the hub's knowledge older than
// EVENT_HUB_CHECK_MS checks for all of them, with its own request's I/O (./source.ts): the location's poll
// cache first, the upstream only when no answer younger than EVENTS_POLL_MS is there and this isolate has not
// asked it for that long.
import type { TenantTaskView } from "../tasks/present";
import { FINAL_EVENT_ID, type LiveState, progressEventId } from "./sse";

/** What a check found: the task running, its final view, or nothing left to show (its record is gone). */
export type Seen =
  { kind: "live"; state: LiveState } | { kind: "final"; view: TenantTaskView } | { kind: "gone" };

/** The I/O of one check, made by the checking stream's own request. */
export interface TaskSource {
  /** The location's cache: a final view, or a live answer younger than `liveMaxAgeMs`; null for neither. */
  cached(now: number, liveMaxAgeMs: number): Promise<Seen | null>;
  /** The upstream (and, at an end, the task's object); keeps what it learns in the cache. Null: learnt nothing. */
  ask(now: number): Promise<Seen | null>;
  failed(err: unknown): void;
}

export interface HubTimings {
  /** How often the hub's knowledge is checked against the cache. */
  checkMs: number;
  /** How often the upstream is asked at most (EVENTS_POLL_MS). */
  pollMs: number;
  /** How long one check may take before another stream may start one (a stream that died mid-check). */
  busyMs: number;
}

export class Hub {
  seen: Seen | null = null;
  /** Streams of this isolate on the task: the hub is dropped with the last one. */
  streams = 0;
  private checkedAt = -Infinity;
  private askedAt = -Infinity;
  private busyUntil = -Infinity;

  /** True when the calling stream should check now: nobody has lately, nobody is, and the task runs. */
  due(now: number, t: HubTimings): boolean {
    const ended = this.seen !== null && this.seen.kind !== "live";
    return !ended && now >= this.busyUntil && now - this.checkedAt >= t.checkMs;
  }

  async check(source: TaskSource, now: number, t: HubTimings): Promise<void> {
    this.busyUntil = now + t.busyMs;
    try {
      let found = await source.cached(now, t.pollMs);
      if (!found && now - this.askedAt >= t.pollMs) {
        this.askedAt = now;
        found = await source.ask(now);
      }
      if (found) this.learn(found);
    } catch (err) {
      // An upstream error or timeout: the streams keep what they had; the next ask is one interval on.
      source.failed(err);
    } finally {
      this.checkedAt = Date.now();
      this.busyUntil = -Infinity;
    }
  }

  /** Never backwards: a cached answer older than what the hub already knows changes nothing. */
  private learn(found: Seen): void {
    if (this.seen && rank(found) < rank(this.seen)) return;
    this.seen = found;
  }
}

const rank = (s: Seen) => (s.kind === "live" ? progressEventId(s.state) : FINAL_EVENT_ID);

const hubs = new Map<string, Hub>();

/** The task's hub in this isolate, counting one more stream on it. */
export function joinHub(taskId: string): Hub {
  let hub = hubs.get(taskId);
  if (!hub) hubs.set(taskId, (hub = new Hub()));
  hub.streams++;
  return hub;
}

export function leaveHub(taskId: string, hub: Hub): void {
  hub.streams--;
  if (hub.streams <= 0 && hubs.get(taskId) === hub) hubs.delete(taskId);
}
