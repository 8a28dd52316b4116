// The floor for `npm run bench:events`'s memory figures: a Worker whose every response is an event stream
// that never ends, ticking every 500 ms like the gateway's (bench/events.mjs opens 1,000 of them). What
// workerd's RSS does under it is the runtime's own cost of an open streamed response; the gateway's figures
// are read against it.
export default {
  async fetch(): Promise<Response> {
    const encoder = new TextEncoder();
    let timer: ReturnType<typeof setTimeout> | null = null;
    let ticks = 0;
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(
          encoder.encode(`event: progress\nid: 1000\ndata: {"status":"pending","progress":0}\n\n`),
        );
        const tick = () => {
          if (++ticks % 30 === 0) controller.enqueue(encoder.encode(": keep-alive\n\n"));
          timer = setTimeout(tick, 500);
        };
        timer = setTimeout(tick, 500);
      },
      cancel() {
        if (timer !== null) clearTimeout(timer);
      },
    });
    return new Response(body, { headers: { "content-type": "text/event-stream; charset=utf-8" } });
  },
} satisfies ExportedHandler;
