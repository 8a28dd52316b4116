// Open event streams, counted in the tenant's object (src/tenant-object): one lease per stream, taken when it
// opens and given back when it closes, in the object's memory — never its storage, so a stream costs no
// write. A lease lasts at most the stream's maximum life (EVENT_STREAM_MAX_LIFE_MS), so the slot of a stream
// whose Worker died without giving it back frees itself. An object that restarts (an eviction, a deploy)
// starts from no leases: for at most one stream life the limits are looser than set, never stuck.

export interface LeaseRequest {
  /** The stream's id (a random UUID). */
  stream: string;
  /** The user (`sub`) who opens it; null for a token without one, counted against the tenant only. */
  sub: string | null;
  tenantMax: number;
  userMax: number;
  /** How long the lease lasts unless given back first. */
  lifeMs: number;
}

export type LeaseAnswer =
  | { granted: true; open: number }
  | { granted: false; scope: "tenant" | "user"; max: number; retryAfterS: number };

export class StreamLeases {
  private readonly open = new Map<string, { sub: string | null; expires: number }>();

  /** Takes a slot for `r.stream`, or refuses with the scope that is full (the user's first). */
  take(r: LeaseRequest, now: number, retryAfterMaxS: number): LeaseAnswer {
    let tenant = 0;
    let user = 0;
    let tenantSoonest = Infinity;
    let userSoonest = Infinity;
    for (const [id, lease] of this.open) {
      if (lease.expires <= now) {
        this.open.delete(id);
        continue;
      }
      tenant++;
      tenantSoonest = Math.min(tenantSoonest, lease.expires);
      if (r.sub !== null && lease.sub === r.sub) {
        user++;
        userSoonest = Math.min(userSoonest, lease.expires);
      }
    }
    // A slot frees when any stream closes, usually long before a lease expires: the wait is capped.
    const wait = (soonest: number) =>
      Math.min(retryAfterMaxS, Math.max(1, Math.ceil((soonest - now) / 1000)));
    if (r.sub !== null && user >= r.userMax)
      return { granted: false, scope: "user", max: r.userMax, retryAfterS: wait(userSoonest) };
    if (tenant >= r.tenantMax)
      return { granted: false, scope: "tenant", max: r.tenantMax, retryAfterS: wait(tenantSoonest) };
    this.open.set(r.stream, { sub: r.sub, expires: now + r.lifeMs });
    return { granted: true, open: tenant + 1 };
  }

  release(stream: string): void {
    this.open.delete(stream);
  }
}
