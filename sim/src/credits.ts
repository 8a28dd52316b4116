// The operator's EvoLink account: its balance, what completed tasks used, and GET /v1/credits in EvoLink's
// shape (files/openapi-get-credits.json). EvoLink reserves a task's credits at creation and settles after
// completion, with no charge on failure (README "Billing model"): so the balance falls as tasks complete, and a
// creation is refused with 402 when its reservation does not fit in the balance less what open tasks hold.
// Amounts are kept in hundredths of a credit (prices are rounded to 2 decimals), so sums stay exact.
import { json } from "./errors";

/**
 * What GET /v1/credits reports as the remaining balance of an unlimited account (the default): EvoLink's
 * `user` has no "unlimited" flag, so the figure must be a number, and this one no test or benchmark reaches.
 */
export const UNLIMITED_BALANCE_CREDITS = 1_000_000_000;

/** The control API's view (GET|POST /__sim/credits): `balance` null = unlimited. */
export interface CreditsState {
  balance: number | null;
  used: number;
  /** What the open (unfinished) tasks hold. */
  reserved: number;
}

const cents = (credits: number) => Math.round(credits * 100);
const credits = (c: number) => c / 100;

export class SimAccount {
  /** Remaining balance in hundredths; null = unlimited. */
  private balance: number | null = null;
  private used = 0;

  /** `{"balance": number ≥ 0 | null}`; throws on anything else. */
  configure(input: unknown): void {
    if (typeof input !== "object" || input === null || Array.isArray(input))
      throw new Error("body must be a JSON object");
    const unknown = Object.keys(input).filter((k) => k !== "balance");
    if (unknown.length > 0) throw new Error(`unknown field(s): ${unknown.join(", ")}`);
    if (!("balance" in input)) throw new Error("balance is required (a number ≥ 0, or null for unlimited)");
    const { balance } = input as { balance: unknown };
    if (balance !== null && (typeof balance !== "number" || !Number.isFinite(balance) || balance < 0))
      throw new Error("balance must be a number ≥ 0, or null for unlimited");
    this.balance = balance === null ? null : cents(balance);
  }

  /** Whether a new reservation fits in the balance less what open tasks hold (always, when unlimited). */
  affords(reservation: number, openReserved: number): boolean {
    return this.balance === null || cents(reservation) <= this.balance - cents(openReserved);
  }

  /** A completed task's settlement. A charge admitted against an earlier, larger balance stops at zero. */
  charge(amount: number): void {
    this.used += cents(amount);
    if (this.balance !== null) this.balance = Math.max(0, this.balance - cents(amount));
  }

  state(openReserved: number): CreditsState {
    return {
      balance: this.balance === null ? null : credits(this.balance),
      used: credits(this.used),
      reserved: openReserved,
    };
  }

  /**
   * GET /v1/credits. The simulator has one key on one account: `user` is the account (its balance and what it
   * used); `token` is that key, which has no limit of its own (`unlimited_credits: true`), so it can spend
   * what the account holds and has used what the account used.
   */
  view(): Record<string, unknown> {
    const remaining = this.balance === null ? UNLIMITED_BALANCE_CREDITS : credits(this.balance);
    const used = credits(this.used);
    return {
      data: {
        token: { remaining_credits: remaining, unlimited_credits: true, used_credits: used },
        user: { remaining_credits: remaining, used_credits: used },
      },
      message: "",
      success: true,
    };
  }

  reset(): void {
    this.balance = null;
    this.used = 0;
  }
}

/** A GET /v1/credits refusal of the key, in the legacy shape its file documents: an integer `code` (README §2b). */
export function creditsUnauthorized(): Response {
  return json(
    { error: { code: 401, message: "Invalid or expired token", type: "authentication_error" } },
    401,
  );
}
