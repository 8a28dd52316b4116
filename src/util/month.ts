// Calendar months (UTC), the period of every monthly quota, ledger and usage figure: `YYYY-MM` and its
// bounds in epoch ms.

/** `YYYY-MM` of the calendar month (UTC) holding `ms`. */
export function monthOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 7);
}

export function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

export function nextMonthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 1);
}

/** Epoch ms of the start of `YYYY-MM`, or null when it is not a month. */
export function parseMonth(month: string): number | null {
  const m = /^(\d{4})-(0[1-9]|1[0-2])$/.exec(month);
  return m ? Date.UTC(Number(m[1]), Number(m[2]) - 1, 1) : null;
}
