// The measuring schedule of `npm run bench`: every target warmed up, then its load slices and its serial
// slices taken round by round, target after target, so a change in the machine's load during the run falls
// on every target alike. Each target brings `prepare()`, run before each of its slices, giving the path.
import { runLoad, summarize } from "./load.mjs";
import { treeCpuMs } from "./processes.mjs";
import { connectProfiler } from "./profile.mjs";

/**
 * @param targets `{ id, label, w, method, headers, body, prepare }[]` (`w`: the Worker from startWorker)
 * @param settings `{ connections, load_s, serial_s, warmup_s, rounds }`
 * @param profileId the target whose Worker is CPU-profiled during its load slices, if any
 * @returns `{ results, profile }`: one summary per target, and the profile's top functions
 */
export async function measureAll(targets, settings, profileId) {
  const load = new Map(targets.map((t) => [t.id, []]));
  const serial = new Map(targets.map((t) => [t.id, []]));
  const { rounds, connections } = settings;
  process.stdout.write("[bench] warm-up");
  for (const t of targets) if (settings.warmup_s > 0) await slice(t, connections, settings.warmup_s);
  const profiled = targets.find((t) => t.id === profileId);
  const profiler = profiled ? await connectProfiler(profiled.w.inspectorPort) : null;
  for (let r = 1; r <= rounds; r++) {
    process.stdout.write(`, load ${r}/${rounds}`);
    for (const t of targets) {
      const cpu = () => treeCpuMs(t.w.pid);
      if (t === profiled) await profiler.start();
      load.get(t.id).push(await slice(t, connections, settings.load_s / rounds, { cpu }));
      if (t === profiled) await profiler.stop();
    }
  }
  for (let r = 1; r <= rounds && settings.serial_s > 0; r++) {
    process.stdout.write(`, serial ${r}/${rounds}`);
    for (const t of targets) serial.get(t.id).push(await slice(t, 1, settings.serial_s / rounds));
  }
  console.log("");
  const profile = profiler
    ? { target: profiled.id, top: profiler.top(30), top_total: profiler.topTotal(60) }
    : null;
  profiler?.close();
  const results = targets.map((t) => {
    const result = {
      id: t.id,
      label: t.label,
      request: `${t.method} ${t.path
        .replace(/task-unified-\S+/, "{id}")
        .replace(/\/callbacks\/upstream\/\S+/, "/callbacks/upstream/{token}")}`,
      load: summarize(load.get(t.id)),
      serial: settings.serial_s > 0 ? summarize(serial.get(t.id)) : null,
    };
    report(result);
    return result;
  });
  return { results, profile };
}

async function slice(t, connections, durationS, probe) {
  t.path = await t.prepare();
  const request = { url: t.w.url + t.path, method: t.method, headers: t.headers, body: t.body };
  return runLoad({ ...request, connections, durationS }, probe);
}

function report({ label, load: l, serial: s }) {
  console.log(
    `[bench] ${label}: ${l.rps} req/s, p50 ${l.latency_ms.p50} ms, p99 ${l.latency_ms.p99} ms, ` +
      `errors ${l.errors}${s ? `; serial p50 ${s.latency_ms.p50} ms` : ""}`,
  );
}
