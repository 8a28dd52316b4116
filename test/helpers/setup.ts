// Runs before every test file: the in-isolate outbound router is installed and emptied per test, and the
// console is swept for the upstream key.
import { afterEach, beforeAll, beforeEach } from "vitest";
import { installOutbound, resetOutbound, route } from "./outbound";
import { sweepConsole } from "./sweep";

beforeAll(() => {
  installOutbound();
  sweepConsole();
});
afterEach(() => resetOutbound());
// The operator's webhook (OPERATOR_WEBHOOK_URL in vitest.config.ts) answers 200 unless a test routes it.
beforeEach(() => route("ops.reelgate.test", () => new Response("ok")));
