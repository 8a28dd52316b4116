// The rate window's admissions, kept in the tenant object's memory: per scope, the creation times of the
// tasks admitted in the last RATE_WINDOW_MS (aborted ones left out), sorted. Admission reads its window
// from here instead of counting the tasks table's index — which, for a scope with a high
// `requests_per_minute`, meant counting every admission of the last minute, twice per request (tenant and
// user): the largest single read of a creation (docs/performance.md). Exact, not an estimate: a scope is
// loaded from the table the first time it is asked for (after a restart, or after it was forgotten), every
// admission of this object is added in the step that writes it, and anything that removes an admission
// from the window otherwise (an abort, a rolled-back step, a wiped object) forgets the scope, which is then
// loaded again. A window asked for further back than what is kept is loaded again too.
import { RATE_WINDOW_MS } from "../config/constants";
import { EMPTY_WINDOW, type RateWindow } from "./arithmetic";

interface Kept {
  /** Valid for windows starting at or after this time: every admission after it is in `times`. */
  from: number;
  /** Ascending; the first `head` entries have left the window. */
  times: number[];
  head: number;
}

/** Scopes kept at most (each at most a minute of its admissions); the oldest kept is dropped first. */
const MAX_SCOPES = 10_000;

export class RecentAdmissions {
  private readonly scopes = new Map<string, Kept>();

  constructor(
    /**
     * Admission times of a scope after `after`, ascending, from the tasks table; null when there are more
     * than `upTo` (a scope over its limit is counted on the table, up to the limit, each time).
     */
    private readonly load: (key: string, after: number, upTo: number | null) => number[] | null,
  ) {}

  /**
   * The window of scope `key` ending at `now`; with a `limit`, the admission whose leaving frees a slot.
   * Null when the scope is not kept and has more than `limit` + 1 admissions in the window: the caller
   * counts it on the table (up to limit + 1), as a refusal needs no more.
   */
  window(key: string, now: number, limit: number | null): RateWindow | null {
    const cutoff = now - RATE_WINDOW_MS;
    let kept = this.scopes.get(key);
    if (!kept || cutoff < kept.from) {
      const times = this.load(key, cutoff, limit === null ? null : limit + 1);
      if (times === null) return null;
      kept = { from: cutoff, times, head: 0 };
      if (this.scopes.size >= MAX_SCOPES) this.scopes.delete(this.scopes.keys().next().value!);
      this.scopes.set(key, kept);
    }
    const { times } = kept;
    while (kept.head < times.length && times[kept.head]! <= cutoff) kept.head++;
    kept.from = cutoff;
    if (kept.head > 1024 && kept.head * 2 > times.length) {
      kept.times = times.slice(kept.head);
      kept.head = 0;
    }
    const count = kept.times.length - kept.head;
    if (count === 0) return EMPTY_WINDOW;
    return {
      count,
      oldest: kept.times[kept.head]!,
      freesSlot: limit !== null && count > limit ? kept.times[kept.times.length - limit]! : null,
    };
  }

  /** An admission at `at` of these scopes was written (in the step that is running). */
  admitted(keys: readonly string[], at: number): void {
    for (const key of keys) {
      const kept = this.scopes.get(key);
      if (!kept || at <= kept.from) continue;
      const { times } = kept;
      let i = times.length;
      while (i > kept.head && times[i - 1]! > at) i--; // almost always at the end
      times.splice(i, 0, at);
    }
  }

  /** These scopes' admissions changed some other way: they are loaded again when next asked for. */
  forget(keys?: readonly string[]): void {
    if (keys === undefined) this.scopes.clear();
    else for (const key of keys) this.scopes.delete(key);
  }
}
