// The memory of a `wrangler dev` Worker as the benchmarks read it: the workerd processes under its process
// group's leader, and their resident size (VmRSS) or high-water mark (VmHWM) from /proc. Linux only.
import { readdirSync, readFileSync } from "node:fs";

/** workerd processes under `pid` (a `wrangler dev` started by bench/lib/processes.mjs). */
export function workerdPids(pid) {
  const parents = new Map();
  for (const p of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${p}/stat`, "utf8");
      parents.set(Number(p), Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]));
    } catch {}
  }
  const tree = new Set([pid]);
  for (let grew = true; grew;) {
    grew = false;
    for (const [p, pp] of parents) if (!tree.has(p) && tree.has(pp)) (tree.add(p), (grew = true));
  }
  return [...tree].filter((p) => {
    try {
      return readFileSync(`/proc/${p}/comm`, "utf8").trim() === "workerd";
    } catch {
      return false;
    }
  });
}

/** A /proc/{pid}/status field in kB (VmRSS, VmHWM); 0 once the process is gone. */
export function memKb(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

/**
 * Samples the largest VmRSS of `pids` every `everyMs` from now until `stop()`, which returns the figures in
 * MB: resident size at the start, the highest sampled, their difference, and the kernel's VmHWM at the end
 * (the process's lifetime peak: compare it across fresh processes only).
 */
export function sampleMemory(pids, everyMs = 20) {
  const rss = () => Math.max(...pids.map((p) => memKb(p, "VmRSS")));
  const before = rss();
  let peak = before;
  const timer = setInterval(() => (peak = Math.max(peak, rss())), everyMs);
  const mb = (kb) => Number((kb / 1024).toFixed(1));
  return {
    stop() {
      clearInterval(timer);
      peak = Math.max(peak, rss());
      const hwm = Math.max(...pids.map((p) => memKb(p, "VmHWM")));
      return {
        rss_before_mb: mb(before),
        rss_peak_sampled_mb: mb(peak),
        rss_growth_mb: mb(peak - before),
        vm_hwm_mb: mb(hwm),
      };
    },
  };
}
