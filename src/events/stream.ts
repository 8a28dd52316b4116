// One open event stream: a body that looks at its task's hub (./hub.ts) every tick, and writes a `progress`
// event when the task's status or progress has moved past what the client has seen, the final event when
// the task has ended (then closes), a keep-alive comment when it has written nothing for a while, and a
// closing comment when nothing has happened for EVENTS_IDLE_MS or the stream reaches its maximum life.
import type { Hub, HubTimings, TaskSource } from "./hub";
import { commentFrame, eventFrame, FINAL_EVENT_ID, progressEventId } from "./sse";

export interface StreamTimings extends Omit<HubTimings, "pollMs"> {
  /** How often the stream looks at its hub (memory only). */
  tickMs: number;
  heartbeatMs: number;
}

export interface StreamOptions {
  hub: Hub;
  source: TaskSource;
  /** The client's Last-Event-ID (0: nothing seen). */
  lastId: number;
  pollMs: number;
  idleMs: number;
  maxLifeMs: number;
  timings: StreamTimings;
  /**
   * Called once, however the stream ends; `taskEnded` when it closed after the final event (then every
   * stream on the task closes at about the same moment).
   */
  onClose(taskEnded: boolean): void;
}

const encoder = new TextEncoder();

export function eventStream(o: StreamOptions): ReadableStream<Uint8Array> {
  const hubTimings: HubTimings = { checkMs: o.timings.checkMs, busyMs: o.timings.busyMs, pollMs: o.pollMs };
  const openedAt = Date.now();
  let lastId = o.lastId;
  let lastEventAt = openedAt;
  let lastWriteAt = openedAt;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let closed = false;

  const end = (taskEnded: boolean) => {
    if (closed) return;
    closed = true;
    if (timer !== null) clearTimeout(timer);
    o.onClose(taskEnded);
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      const write = (text: string) => {
        controller.enqueue(encoder.encode(text));
        lastWriteAt = Date.now();
      };
      const finish = (comment?: string) => {
        if (closed) return;
        if (comment) write(commentFrame(comment));
        controller.close();
        end(o.hub.seen?.kind === "final");
      };

      const tick = async () => {
        if (closed) return;
        let now = Date.now();
        if (o.hub.due(now, hubTimings)) {
          await o.hub.check(o.source, now, hubTimings);
          if (closed) return;
          now = Date.now();
        }
        const seen = o.hub.seen;
        if (seen?.kind === "final") {
          if (lastId < FINAL_EVENT_ID) write(eventFrame(seen.view.status, FINAL_EVENT_ID, seen.view));
          return finish();
        }
        if (seen?.kind === "gone") return finish("the task is no longer known");
        if (seen?.kind === "live") {
          const id = progressEventId(seen.state);
          if (id > lastId) {
            write(eventFrame("progress", id, seen.state));
            lastId = id;
            lastEventAt = now;
          }
        }
        if (now - lastEventAt >= o.idleMs)
          return finish("idle: closed; reconnect with Last-Event-ID to resume");
        if (now - openedAt >= o.maxLifeMs)
          return finish("open too long: closed; reconnect with Last-Event-ID to resume");
        if (now - lastWriteAt >= o.timings.heartbeatMs) write(commentFrame("keep-alive"));
        timer = setTimeout(run, o.timings.tickMs);
      };
      const run = () => {
        tick().catch((err: unknown) => {
          // Not a failed check (the hub keeps those to itself): the stream itself broke. The client
          // reconnects with its Last-Event-ID.
          o.source.failed(err);
          if (closed) return;
          controller.error(err);
          end(false);
        });
      };
      run();
    },
    cancel() {
      // The client went away.
      end(false);
    },
  });
}
