// POST /v1/videos/generations: a generation task created from a validated, policy-checked, priced request
// (./create.ts), admitted and forwarded in one call to the tenant's object (./create-rpc.ts).
// POST /v1/videos/generations/estimate: the same checks and price, admission asked but not taken (./estimate.ts).
import { Hono } from "hono";
import type { TenantEnv } from "../auth/principal";
import { createGeneration } from "./create";
import { estimateGeneration } from "./estimate";

export const generationRoutes = new Hono<TenantEnv>();

generationRoutes.post("/videos/generations", createGeneration);
generationRoutes.post("/videos/generations/estimate", estimateGeneration);
