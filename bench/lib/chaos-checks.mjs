// The chaos run's assertions (scripts/chaos.mjs), as plain functions over what the run collected: the
// client's creations, the gateway's admin views (task list, usage ledger, usage samples), the simulator's
// record of upstream tasks and the receiver's deliveries. Each returns { name, ok, details[] }.

const TERMINAL = new Set(["completed", "failed", "cancelled"]);
const round2 = (x) => Math.round(x * 100) / 100;

function check(name, problems, summary) {
  return { name, ok: problems.length === 0, summary, details: problems.slice(0, 12), more: problems.length };
}

/** Every logical creation got its task (or a final quota refusal), and a replay returns the same task. */
export function creationsAnswered(creations) {
  const problems = [];
  for (const c of creations) {
    // The budgets fit every task once: a 402 means credits were held that no task should hold.
    if (c.outcome !== "created")
      problems.push(`creation ${c.n} (${c.user}) ended ${c.outcome}: ${c.lastError ?? "?"}`);
    if (c.outcome === "created" && c.replay && (c.replay.id !== c.taskId || !c.replay.replayed))
      problems.push(
        `creation ${c.n}: a replay of its key answered ${JSON.stringify(c.replay)}, not ${c.taskId}`,
      );
  }
  const created = creations.filter((c) => c.outcome === "created").length;
  const refused = creations.filter((c) => c.outcome === "refused").length;
  return check("every creation is answered, and its key replays the same task", problems, {
    creations: creations.length,
    created,
    refused_by_credits: refused,
    replays_checked: creations.filter((c) => c.replay).length,
  });
}

/** Each created task is listed once, ended, in the ledger once with its charge, and has one event. */
export function endsExactlyOnce({ created, listed, ledger, deliveries }) {
  const problems = [];
  const ids = new Set(created.map((c) => c.taskId));
  const listedById = groupBy(listed, (t) => t.id);
  const ledgerById = groupBy(ledger.tasks, (t) => t.task_id);
  const eventsByTask = groupBy(
    deliveries.filter((d) => d.taskId),
    (d) => d.taskId,
  );
  for (const id of ids) {
    const rows = listedById.get(id) ?? [];
    const entries = ledgerById.get(id) ?? [];
    if (rows.length !== 1) problems.push(`${id}: listed ${rows.length} times`);
    else if (!TERMINAL.has(rows[0].status)) problems.push(`${id}: still ${rows[0].status}`);
    if (entries.length !== 1) problems.push(`${id}: ${entries.length} ledger entries`);
    else if (entries[0].ended_at === null || entries[0].charged === null)
      problems.push(`${id}: ledger entry not settled (${entries[0].status})`);
    else if (rows[0] && entries[0].status !== rows[0].status)
      problems.push(`${id}: ledger says ${entries[0].status}, the list ${rows[0].status}`);
    const events = eventsByTask.get(id) ?? [];
    const eventIds = new Set(events.map((d) => d.id));
    const bodies = new Set(events.map((d) => d.body));
    if (eventIds.size !== 1)
      problems.push(`${id}: webhook-ids ${JSON.stringify([...eventIds])}, expected one`);
    if (bodies.size > 1) problems.push(`${id}: ${bodies.size} different bodies for one event`);
    if (events[0] && rows[0] && events[0].status !== rows[0].status)
      problems.push(`${id}: the event says ${events[0].status}, the task ${rows[0].status}`);
  }
  for (const t of listed) if (!ids.has(t.id)) problems.push(`${t.id}: listed, but no client was given it`);
  for (const id of eventsByTask.keys())
    if (!ids.has(id)) problems.push(`${id}: an event for an unknown task`);
  for (const [eventId, list] of groupBy(deliveries, (d) => d.id)) {
    const tasks = new Set(list.map((d) => d.taskId));
    if (tasks.size > 1) problems.push(`webhook-id ${eventId} names ${tasks.size} tasks`);
  }
  const ended = listed.filter((t) => TERMINAL.has(t.status));
  const byStatus = {};
  for (const t of ended) byStatus[t.status] = (byStatus[t.status] ?? 0) + 1;
  return check("every created task ends exactly once", problems, {
    tasks: ids.size,
    listed: listed.length,
    ...byStatus,
  });
}

/** Nothing stays reserved; each scope's used credits are the sum of its tasks' charges. */
export function creditsSettled({ ledger, simTasks, listed }) {
  const problems = [];
  const charged = new Map();
  for (const t of ledger.tasks) {
    const scopes = ["tenant", `user:${t.sub}`];
    for (const s of scopes) charged.set(s, (charged.get(s) ?? 0) + (t.charged ?? 0));
  }
  for (const total of ledger.totals) {
    const key = total.scope === "tenant" ? "tenant" : `user:${total.sub}`;
    if (total.reserved !== 0) problems.push(`${key}: ${total.reserved} credits still reserved`);
    const sum = round2(charged.get(key) ?? 0);
    if (round2(total.used) !== sum) problems.push(`${key}: used ${total.used}, its tasks sum to ${sum}`);
  }
  const upstreamOf = new Map(listed.map((t) => [t.id, t.upstream_id]));
  for (const t of ledger.tasks) {
    if (t.status === "aborted") continue;
    const sim = simTasks.get(upstreamOf.get(t.task_id));
    const expected = t.status === "completed" ? (sim?.creditsReserved ?? NaN) : 0;
    if (t.charged !== expected)
      problems.push(`${t.task_id} (${t.status}): charged ${t.charged}, expected ${expected}`);
  }
  const tenant = ledger.totals.find((t) => t.scope === "tenant");
  return check("every credit reserved is settled or released; the ledger is the sum of its tasks", problems, {
    tenant_used: tenant?.used ?? 0,
    tenant_reserved: tenant?.reserved ?? 0,
    ledger_rows: ledger.tasks.length,
    aborted_rows: ledger.tasks.filter((t) => t.status === "aborted").length,
  });
}

/** Concurrency seen by the upstream, admissions per minute, and credits (sampled and final) per scope. */
export function withinLimits({ limits, listed, simTasks, ledger, samples }) {
  const problems = [];
  const subOf = new Map(listed.map((t) => [t.upstream_id, t.sub]));
  const intervals = [...simTasks.values()].map((s) => ({
    sub: subOf.get(s.id) ?? "?",
    from: s.createdAt,
    to: s.finishedAt ?? Infinity,
  }));
  const peak = { tenant: maxOverlap(intervals) };
  for (const [sub, list] of groupBy(intervals, (i) => i.sub)) peak[sub] = maxOverlap(list);
  const admitted = ledger.tasks.filter((t) => t.status !== "aborted");
  const rate = {
    tenant: maxInWindow(
      admitted.map((t) => Date.parse(t.created_at)),
      60_000,
    ),
  };
  for (const [sub, list] of groupBy(admitted, (t) => t.sub))
    rate[sub] = maxInWindow(
      list.map((t) => Date.parse(t.created_at)),
      60_000,
    );
  const within = (what, scope, value, max) => {
    if (max !== undefined && value > max) problems.push(`${scope}: ${what} ${value} > ${max}`);
  };
  for (const [scope, value] of Object.entries(peak)) {
    const max =
      scope === "tenant" ? limits.quotas.max_concurrent_tasks : limits.user_quotas.max_concurrent_tasks;
    within("upstream tasks running at once", scope, value, max);
  }
  for (const [scope, value] of Object.entries(rate)) {
    const max =
      scope === "tenant" ? limits.quotas.requests_per_minute : limits.user_quotas.requests_per_minute;
    within("admissions in 60 s", scope, value, max);
  }
  let peakCredits = 0;
  for (const sample of [...samples, { at: Date.now(), totals: ledger.totals }])
    for (const t of sample.totals) {
      const max = t.scope === "tenant" ? limits.quotas.monthly_credits : limits.user_quotas.monthly_credits;
      const held = round2(t.used + t.reserved);
      if (t.scope !== "tenant") peakCredits = Math.max(peakCredits, held);
      within(`credits used + reserved at ${new Date(sample.at).toISOString()}`, t.sub ?? "tenant", held, max);
    }
  const users = Object.entries(peak).filter(([s]) => s !== "tenant");
  return check("no user (nor the tenant) is ever over its limits", problems, {
    peak_upstream_concurrency_tenant: peak.tenant,
    peak_upstream_concurrency_user: Math.max(0, ...users.map(([, v]) => v)),
    peak_admissions_per_minute_tenant: rate.tenant,
    peak_admissions_per_minute_user: Math.max(
      0,
      ...Object.entries(rate)
        .filter(([s]) => s !== "tenant")
        .map(([, v]) => v),
    ),
    peak_user_credits_held: peakCredits,
    usage_samples: samples.length,
  });
}

/** Each task end reaches the receiver and is accepted; repeats carry the same webhook-id. */
export function webhooksDelivered({ created, deliveries }) {
  const problems = [];
  const invalid = deliveries.filter((d) => d.invalid);
  if (invalid.length) problems.push(`${invalid.length} deliveries failed signature verification`);
  const accepted = deliveries.filter((d) => d.answered === 204);
  const acceptedIds = groupBy(accepted, (d) => d.id);
  const acceptedTasks = new Set(accepted.map((d) => d.taskId));
  for (const c of created)
    if (!acceptedTasks.has(c.taskId))
      problems.push(`${c.taskId}: its event was never accepted by the receiver`);
  const repeats = [...acceptedIds.values()].reduce((n, list) => n + list.length - 1, 0);
  const refused = deliveries.filter((d) => d.answered === 500).length;
  const events = new Set(deliveries.map((d) => d.id)).size;
  return check("every task end reaches its webhook; a deduplicating receiver sees exactly one", problems, {
    deliveries: deliveries.length,
    refused_on_purpose: refused,
    accepted: accepted.length,
    distinct_events_accepted: acceptedIds.size,
    // Each refusal earns one more attempt; any delivery beyond events + refusals is the kills' doing.
    repeats_caused_by_kills: deliveries.length - events - refused,
    repeats_after_acceptance: repeats,
  });
}

/** The upstream got exactly one task per created task: no retry (idempotent or not) made a second. */
export function oneUpstreamTaskEach({ created, listed, simTasks, upstreamPosts }) {
  const problems = [];
  const ids = new Set(created.map((c) => c.taskId));
  const attached = groupBy(
    listed.filter((t) => ids.has(t.id)),
    (t) => t.upstream_id,
  );
  for (const [upstreamId, tasks] of attached)
    if (tasks.length > 1) problems.push(`${upstreamId}: attached to ${tasks.length} gateway tasks`);
  const byKey = groupBy([...simTasks.values()], (s) => s.idempotencyKey ?? "(none)");
  for (const [key, tasks] of byKey)
    if (key === "(none)" || tasks.length > 1)
      problems.push(`upstream key ${key}: ${tasks.length} upstream tasks`);
  for (const s of simTasks.values())
    if (!attached.has(s.id)) problems.push(`${s.id}: an upstream task no created task owns (orphan)`);
  const posts = groupBy(upstreamPosts, (r) => r.headers["idempotency-key"] ?? "(none)");
  return check("no retry created a second upstream task", problems, {
    upstream_tasks: simTasks.size,
    created_tasks: ids.size,
    idempotency_keys: byKey.size,
    upstream_creates: upstreamPosts.length,
    upstream_keys_sent_again: [...posts.values()].filter((list) => list.length > 1).length,
  });
}

function groupBy(items, keyOf) {
  const map = new Map();
  for (const item of items) {
    const key = keyOf(item);
    if (!map.has(key)) map.set(key, []);
    map.get(key).push(item);
  }
  return map;
}

/** The most intervals [from, to) open at one moment. */
export function maxOverlap(intervals) {
  const edges = intervals.flatMap((i) => [
    [i.from, 1],
    [i.to, -1],
  ]);
  edges.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let open = 0;
  let peak = 0;
  for (const [, d] of edges) peak = Math.max(peak, (open += d));
  return peak;
}

/** The most timestamps in any window of `ms` (a sliding window [t − ms, t]). */
export function maxInWindow(times, ms) {
  const sorted = [...times].sort((a, b) => a - b);
  let peak = 0;
  for (let i = 0, j = 0; i < sorted.length; i++) {
    while (sorted[i] - sorted[j] >= ms) j++;
    peak = Math.max(peak, i - j + 1);
  }
  return peak;
}
