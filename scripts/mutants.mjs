// The mutants of `npm run mutate` (scripts/mutate.mjs): one deliberate bug each in security or money code,
// with the tests that must catch it. `from` must occur exactly once in `file`.
export const MUTANTS = [
  {
    name: "tasks: a user sees another user's task",
    file: "src/tasks/ids.ts",
    from: "if (!claims.subHash) return false;",
    to: "if (!claims.subHash) return true;\n  return true;",
    tests: ["test/tasks"],
  },
  {
    name: "tasks: an end settles twice",
    file: "src/tenant-object/tenant-state.ts",
    from: "if (current.endedAt !== null) return { record: current, firstEnd: false };",
    to: "",
    tests: ["test/callbacks/ingress.test.ts", "test/quota"],
  },
  {
    name: "callbacks: a forged callback token passes",
    file: "src/callbacks/token.ts",
    from: "if (!(await safeEqual(base64url(sig.subarray(0, MAC_BYTES)), tag))) return null;",
    to: "",
    tests: ["test/callbacks"],
  },
  {
    name: "quota: no limit refuses",
    file: "src/quota/arithmetic.ts",
    from: "      if (refusal) return refusal;",
    to: "",
    tests: ["test/quota"],
  },
];
