// The simulator as a Worker for local development (`npm run sim`, port 8788): one UpstreamSimulator lives in a
// single Durable Object so every request sees the same tasks, and DO alarms tick it about every 500 ms while
// work is outstanding, so tasks finish and callbacks fire in real time.
import type { SimEnv } from "./host";

export { UpstreamSimHost } from "./host";

export default {
  async fetch(request, env): Promise<Response> {
    const stub = env.SIM.get(env.SIM.idFromName("upstream"));
    return stub.fetch(request);
  },
} satisfies ExportedHandler<SimEnv>;
