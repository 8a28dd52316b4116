// The middleware order and the route table, top to bottom as a request meets them.
import { Hono } from "hono";
import type { AppEnv } from "./env";
import { notFound, onError, requestContext } from "./http/middleware";

export const app = new Hono<AppEnv>();

app.use("*", requestContext());

app.get("/healthz", (c) => c.json({ ok: true }));

app.notFound(notFound);
app.onError(onError);
