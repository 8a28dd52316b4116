// A single Durable Object that owns the issuer → tenant index, so two tenants can never claim one issuer
// (KV has no compare-and-set). KV keeps a copy of the index for fast reads on the request path.
import { DurableObject } from "cloudflare:workers";
import type { Env } from "../env";

export class Registry extends DurableObject<Env> {}
