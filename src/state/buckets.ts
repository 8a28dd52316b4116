// The R2 keys a tenant owns, by prefix, and their deletion in bounded pages. DELETE /admin/tenants/{id}
// (src/tenants/lifecycle.ts) runs it from the Worker, not inside the tenant's object: a listing by prefix
// needs none of the object's state, the prefixes span every incarnation of the tenant id (the object is one
// incarnation), and only the Worker-side flow can keep the Registry record until the keys are gone, so that
// a deletion cut off half-way is found and finished by the next DELETE. Here, below the domains, so that
// the files and results code (which write under these prefixes) and the tenants code (which deletes them)
// share one spelling of each.
import type { Env } from "../env";

/** Keys listed, then deleted, per page: R2's most for one `list` and for one `delete`. */
export const WIPE_PAGE_KEYS = 1000;
/**
 * Pages per DELETE call, across both buckets: each is two subrequests, so a call stays far inside the
 * Worker's subrequest limit, and a tenant with more keys is finished by calling again.
 */
export const WIPE_MAX_PAGES = 20;

/** Uploads (FILES_BACKEND=r2): `files/{tenant}/{file id}` in UPLOADS. Ids never contain '/'. */
export function uploadsPrefix(tenantId: string): string {
  return `files/${tenantId}/`;
}

/** Kept results: `results/{tenant}/{incarnation}/{task row}/{index}` in RESULTS. */
export function resultsPrefix(tenantId: string): string {
  return `results/${tenantId}/`;
}

export interface BucketPrefix {
  bucket: R2Bucket;
  prefix: string;
}

/** Every prefix the tenant owns, in the buckets this deployment binds (either may be absent). */
export function tenantPrefixes(env: Env, tenantId: string): BucketPrefix[] {
  const { UPLOADS, RESULTS }: { UPLOADS?: R2Bucket; RESULTS?: R2Bucket } = env;
  const out: BucketPrefix[] = [];
  if (UPLOADS) out.push({ bucket: UPLOADS, prefix: uploadsPrefix(tenantId) });
  if (RESULTS) out.push({ bucket: RESULTS, prefix: resultsPrefix(tenantId) });
  return out;
}

export interface WipeResult {
  /** Keys deleted by this call. */
  deleted: number;
  /** True when the last listing of every prefix had nothing after it: no key is left under them. */
  complete: boolean;
}

/**
 * Deletes the keys under each prefix, a page at a time (list, then one `delete` of that page's keys), for
 * at most `maxPages` pages. Each list starts at the prefix again: the keys it returned before are gone,
 * so the next page is the rest, and a call after a cut-off one needs no cursor. Safe to call again.
 */
export async function wipePrefixes(
  targets: readonly BucketPrefix[],
  limits: { pageKeys: number; maxPages: number } = { pageKeys: WIPE_PAGE_KEYS, maxPages: WIPE_MAX_PAGES },
): Promise<WipeResult> {
  let deleted = 0;
  let pages = 0;
  for (const { bucket, prefix } of targets) {
    for (let more = true; more;) {
      if (pages === limits.maxPages) return { deleted, complete: false };
      const page = await bucket.list({ prefix, limit: limits.pageKeys });
      pages++;
      if (page.objects.length > 0) await bucket.delete(page.objects.map((o) => o.key));
      deleted += page.objects.length;
      more = page.truncated;
    }
  }
  return { deleted, complete: true };
}
