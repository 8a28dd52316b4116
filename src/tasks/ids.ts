// Gateway task ids: `task-unified-<unix seconds>-<random><mac>`. The prefix keeps EvoLink clients happy;
// 80 random bits make ids unguessable; the MAC binds the id to its tenant, so an id presented by another
// tenant (or forged) is rejected without touching storage.
import { TASK_ID_PREFIX } from "../config/constants";
import { base32, hmacSha256, randomBytes } from "../util/hmac";

const RANDOM_BYTES = 10; // 16 base32 chars
const MAC_BYTES = 8; // 13 base32 chars
const ID_PATTERN = /^task-unified-(\d{9,11})-([a-z2-7]{16})([a-z2-7]{13})$/;

async function mac(secret: string, tenantId: string, stamp: string, random: string): Promise<string> {
  const sig = await hmacSha256(secret, `task-id\n${tenantId}\n${stamp}\n${random}`);
  return base32(sig.subarray(0, MAC_BYTES));
}

export async function mintTaskId(secret: string, tenantId: string, nowMs: number): Promise<string> {
  const stamp = String(Math.floor(nowMs / 1000));
  const random = base32(randomBytes(RANDOM_BYTES));
  return `${TASK_ID_PREFIX}${stamp}-${random}${await mac(secret, tenantId, stamp, random)}`;
}

/** True when `id` is well formed and was minted for `tenantId`. */
export async function isTaskIdOf(secret: string, tenantId: string, id: string): Promise<boolean> {
  const m = ID_PATTERN.exec(id);
  if (!m) return false;
  const [, stamp, random, tag] = m as unknown as [string, string, string, string];
  const expected = await mac(secret, tenantId, stamp, random);
  // Both sides are public-length base32 strings; compare without early exit.
  let diff = 0;
  for (let i = 0; i < expected.length; i++) diff |= expected.charCodeAt(i) ^ tag.charCodeAt(i);
  return diff === 0;
}
