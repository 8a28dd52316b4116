// Runs before every test file: the in-isolate outbound router is installed and emptied per test.
import { afterEach, beforeAll } from "vitest";
import { installOutbound, resetOutbound } from "./outbound";

beforeAll(() => installOutbound());
afterEach(() => resetOutbound());
