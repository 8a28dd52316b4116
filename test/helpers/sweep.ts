// The upstream key must never leave the gateway: every response a test receives through `gw()` and every
// console line of the suite is swept for it. A hit fails the test that caused it, on the spot.
import { env } from "cloudflare:workers";

const KEY = env.UPSTREAM_API_KEY as string;
export const sweepStats = { responses: 0, logLines: 0 };

export async function sweepResponse(res: Response): Promise<Response> {
  sweepStats.responses++;
  for (const [name, value] of res.headers) {
    if (value.includes(KEY)) throw new Error(`upstream key leaked in response header ${name}`);
  }
  if (res.body && (res.headers.get("content-type") ?? "").startsWith("text/event-stream"))
    return new Response(res.body.pipeThrough(sweepingStream()), res);
  if (res.body) {
    // Bytes decoded by hand: .text() on a video warns that it is not text.
    const text = new TextDecoder().decode(await res.clone().arrayBuffer());
    if (text.includes(KEY)) throw new Error(`upstream key leaked in a response body: ${res.status}`);
  }
  return res;
}

/** Passes a streamed body through as it comes, failing it at the chunk where the key appears. */
function sweepingStream(): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  let tail = ""; // the end of the text so far, so a key split across chunks is still seen
  return new TransformStream({
    transform(chunk, controller) {
      const text = tail + decoder.decode(chunk, { stream: true });
      if (text.includes(KEY)) throw new Error("upstream key leaked in a streamed response body");
      tail = text.slice(-KEY.length);
      controller.enqueue(chunk);
    },
  });
}

export function sweepConsole(): void {
  for (const level of ["log", "info", "warn", "error", "debug"] as const) {
    const original = console[level].bind(console);
    console[level] = (...args: unknown[]) => {
      sweepStats.logLines++;
      const line = args.map((a) => (typeof a === "string" ? a : safeStringify(a))).join(" ");
      if (line.includes(KEY)) throw new Error(`upstream key leaked in a ${level} log line`);
      original(...args);
    };
  }
}

function safeStringify(v: unknown): string {
  try {
    return v instanceof Error ? `${v.name}: ${v.message}\n${v.stack}` : JSON.stringify(v);
  } catch {
    return String(v);
  }
}
