// One Durable Object per tenant (SQLite-backed): the tenant's tasks, so a task is visible the moment its
// creation returns, from any location, without waiting for KV to propagate.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

export class TenantState extends DurableObject<Env> {}
