// Runs before every test file: the in-isolate outbound router is installed and emptied per test, and the
// console is swept for the upstream key.
import { afterEach, beforeAll } from "vitest";
import { installOutbound, resetOutbound } from "./outbound";
import { sweepConsole } from "./sweep";

beforeAll(() => {
  installOutbound();
  sweepConsole();
});
afterEach(() => resetOutbound());
