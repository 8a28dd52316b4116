// The month's credits per day and per user, read from the tenant's tasks table for the operator's console
// (GET /admin/tenants/{tenant_id}/usage/daily). Two aggregate queries over the month's range of the `tasks_created`
// index, so a read costs the month's tasks and never the tenant's whole history; the shaping is pure.
import { fromUnits, toUnits } from "../quota/arithmetic";
import { nextMonthStart } from "../util/month";

const DAY_MS = 86_400_000;
/** How many users the daily view ranks. */
export const TOP_USERS = 10;

/** One UTC day of the month, as the tasks created that day (aborted ones never existed for the tenant). */
export interface DayRow {
  day: number;
  created: number;
  ended: number;
  reserved: number;
  charged: number;
  held: number;
}

export interface UserRow {
  sub: string;
  tasks: number;
  reserved: number;
  charged: number;
}

export interface DailyRows {
  days: DayRow[];
  users: UserRow[];
}

/** Runs inside the tenant's Durable Object: the month starting at `monthMs`, grouped by day and by user. */
export function readDaily(sql: SqlStorage, monthMs: number, topUsers = TOP_USERS): DailyRows {
  const from = monthMs;
  const to = nextMonthStart(monthMs);
  const days = sql
    .exec<Record<keyof DayRow, number>>(
      `SELECT CAST((created_at - ?) / ${DAY_MS} AS INTEGER) AS day, COUNT(*) AS created, SUM(ended_at IS NOT NULL) AS ended,
         TOTAL(reserved) AS reserved, TOTAL(charged) AS charged,
         TOTAL(CASE WHEN ended_at IS NULL THEN reserved ELSE 0 END) AS held
       FROM tasks WHERE created_at >= ? AND created_at < ? AND state != 'aborted'
       GROUP BY day ORDER BY day`,
      from,
      from,
      to,
    )
    .toArray()
    .map((r) => ({ ...r }));
  const users = sql
    .exec<{ sub: string; tasks: number; reserved: number; charged: number }>(
      `SELECT sub, COUNT(*) AS tasks, TOTAL(reserved) AS reserved, TOTAL(charged) AS charged
       FROM tasks WHERE created_at >= ? AND created_at < ? AND state != 'aborted' AND sub IS NOT NULL
       GROUP BY sub ORDER BY charged DESC, reserved DESC, sub LIMIT ?`,
      from,
      to,
      topUsers,
    )
    .toArray()
    .map((r) => ({ ...r }));
  return { days, users };
}

/** Credits as the API shows them: exact to the ledger's unit, free of float sums' noise. */
const credits = (n: number) => fromUnits(toUnits(n));

export interface DayView {
  date: string;
  credits_reserved: number;
  credits_charged: number;
  credits_held: number;
  tasks_created: number;
  tasks_ended: number;
}

/** Every day of the month, zero where no task was created, oldest first. */
export function dayViews(monthMs: number, rows: readonly DayRow[]): DayView[] {
  const count = Math.round((nextMonthStart(monthMs) - monthMs) / DAY_MS);
  const byDay = new Map(rows.map((r) => [r.day, r]));
  return Array.from({ length: count }, (_, day) => {
    const r = byDay.get(day);
    return {
      date: new Date(monthMs + day * DAY_MS).toISOString().slice(0, 10),
      credits_reserved: credits(r?.reserved ?? 0),
      credits_charged: credits(r?.charged ?? 0),
      credits_held: credits(r?.held ?? 0),
      tasks_created: r?.created ?? 0,
      tasks_ended: r?.ended ?? 0,
    };
  });
}

export function userViews(rows: readonly UserRow[]) {
  return rows.map((u) => ({
    sub: u.sub,
    credits_reserved: credits(u.reserved),
    credits_charged: credits(u.charged),
    tasks: u.tasks,
  }));
}
