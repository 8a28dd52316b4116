// Plumbing shared by the micro-benchmarks (bench/*.bench.ts, `npm run bench:micro`). They run inside workerd,
// whose clock ticks in whole milliseconds (a Spectre mitigation), so every benchmarked function runs a
// calibrated batch of operations (about 2 ms) per sample, and results are reported per operation.
import type { Bench, BenchRegistration, BenchResult, BenchRunOptions } from "vitest";

export type Op = () => unknown;

export interface Case {
  name: string;
  op: Op;
}

/** How many runs of `op` take about `targetMs` (at least 1), found by running it for ~10× that long. */
export async function calibrate(op: Op, targetMs = 2): Promise<number> {
  let n = 0;
  const start = performance.now();
  while (performance.now() - start < targetMs * 10) {
    await op();
    n++;
  }
  const perOpMs = (performance.now() - start) / n;
  return Math.max(1, Math.round(targetMs / perOpMs));
}

function batched(op: Op, n: number): () => Promise<void> {
  return async () => {
    for (let i = 0; i < n; i++) await op();
  };
}

/** Benchmarks the cases side by side and prints µs/op and ops/s, per operation rather than per batch. */
export async function compareOps(bench: Bench, title: string, cases: Case[], timeMs = 1_000): Promise<void> {
  const sized: { name: string; label: string; batch: number; op: Op }[] = [];
  for (const c of cases) {
    const batch = await calibrate(c.op);
    sized.push({ ...c, batch, label: `${c.name} (×${batch})` });
  }
  const results = await runAll(
    sized.map((c) => bench(c.label, batched(c.op, c.batch))),
    { time: timeMs, warmupTime: 200 },
    bench,
  );
  const rows = sized.map((c, i) => row(c.name, results[i]!, c.batch));
  console.log(
    [`\n${title} (per operation)`, "| operation | µs/op | ops/s |", "| --- | --: | --: |", ...rows].join(
      "\n",
    ),
  );
}

/** compare() wants two or more registrations: a lone one is run on its own. */
async function runAll(
  registrations: BenchRegistration<string>[],
  options: BenchRunOptions,
  bench: Bench,
): Promise<BenchResult[]> {
  const [first, ...more] = registrations;
  if (!first) return [];
  if (more.length === 0) return [await first.run(options)];
  const storage = await bench.compare(first, ...more, options);
  return registrations.map((r) => storage.get(r.name));
}

function row(name: string, result: BenchResult, batch: number): string {
  const usPerOp = (result.period / batch) * 1_000;
  return `| ${name} | ${usPerOp.toFixed(1)} | ${Math.round(1e6 / usPerOp).toLocaleString("en-US")} |`;
}
