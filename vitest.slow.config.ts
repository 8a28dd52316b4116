// `npm run test:slow`: tests too long for `npm test` (its config includes test/**/*.test.ts only), run in the
// same workerd setup as the suite. Today: 1,000 task ends against webhook.max_per_second 10 (about 100 s).
import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config";

// mergeConfig concatenates arrays, so the base's include is replaced after the merge, not merged into.
const slow = mergeConfig(base, defineConfig({ test: { testTimeout: 600_000, silent: false } }), false);
slow.test = { ...slow.test, include: ["test/slow/**/*.slow.ts"] };
export default slow;
