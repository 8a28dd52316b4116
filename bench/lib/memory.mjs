// The gateway's workerd memory, as the benches read it from /proc (Linux): the workerd processes under a
// `wrangler dev`, and a field of their status (VmRSS now, VmHWM the kernel's high-water mark), in kB.
import { readdirSync, readFileSync } from "node:fs";

/** workerd processes under `pid` (a `wrangler dev`). */
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

export function memKb(pid, field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) : 0;
}
