// `npm run test:slow`: tests too long for `npm test` (its config includes test/**/*.test.ts only), run in the
// same workerd setup as the suite. Today: 1,000 task ends against webhook.max_per_second 10 (about 100 s).
import { defineConfig, mergeConfig } from "vitest/config";
import base from "./vitest.config";

export default mergeConfig(
  base,
  defineConfig({ test: { include: ["test/slow/**/*.slow.ts"], testTimeout: 600_000 } }),
  false,
);
