// The object's one physical alarm, armed through this one place ("one alarm, many deadlines"). It remembers
// the time it armed, read once when the object starts, so asking for a deadline later than the armed one
// costs no storage operation; only an earlier deadline writes (one setAlarm).
export class AlarmClock {
  /** The armed time as far as this instance knows; null when none is armed. */
  private armedAt: number | null = null;

  constructor(private readonly storage: DurableObjectStorage) {}

  /** Reads the armed time; called once, inside the constructor's blockConcurrencyWhile. */
  async load(): Promise<void> {
    this.armedAt = await this.storage.getAlarm();
  }

  /**
   * Makes sure the alarm fires no later than `at` (null: no deadline). Synchronous, so it commits with the
   * write that created the deadline (inside transactionSync, or before the next await).
   */
  armBy(at: number | null): void {
    if (at === null || (this.armedAt !== null && this.armedAt <= at)) return;
    this.armedAt = at;
    void this.storage.setAlarm(at);
  }

  /**
   * `storage.transactionSync(fn)`, keeping the remembered time true to storage: when `fn` throws, the
   * setAlarm it made rolls back with its writes, so the time remembered before it is the one still armed.
   */
  transaction<T>(fn: () => T): T {
    const before = this.armedAt;
    try {
      return this.storage.transactionSync(fn);
    } catch (err) {
      this.armedAt = before;
      throw err;
    }
  }

  /**
   * Sets the alarm to exactly `at` (null: deletes it): for an owner that knows every deadline it has and so
   * may also move the alarm later (the Registry, once its replication caught up).
   */
  reset(at: number | null): void {
    this.armedAt = at;
    void (at === null ? this.storage.deleteAlarm() : this.storage.setAlarm(at));
  }

  /** The alarm handler started: the platform deletes the running alarm unless a new one is set during it. */
  fired(): void {
    this.armedAt = null;
  }
}
