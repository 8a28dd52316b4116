// Local-development defaults shared by `npm start` and `npm run token`. Every value can be overridden by
// the environment variable of the same name; none of them is fit for production.
export const GATEWAY_PORT = Number(process.env.GATEWAY_PORT ?? 8787);
export const SIM_PORT = Number(process.env.SIM_PORT ?? 8788);
export const RECEIVER_PORT = Number(process.env.RECEIVER_PORT ?? 8789);
export const GATEWAY_URL = `http://127.0.0.1:${GATEWAY_PORT}`;
// Each `wrangler dev` gets its own inspector port: two started together otherwise race for 9229.
export const GATEWAY_INSPECTOR_PORT = Number(process.env.GATEWAY_INSPECTOR_PORT ?? GATEWAY_PORT + 10000);
export const SIM_INSPECTOR_PORT = Number(process.env.SIM_INSPECTOR_PORT ?? SIM_PORT + 10000);
/** Where `npm start` keeps local state: the gateway's in state/, the simulator's in sim-state/. */
export const STATE_DIR = process.env.STATE_DIR ?? ".wrangler";
export const ADMIN_TOKEN = process.env.ADMIN_TOKEN ?? "dev-admin-token-change-me";
export const SIGNING_SECRET = process.env.SIGNING_SECRET ?? "dev-signing-secret-change-me-0123456789";
export const SIM_API_KEY = "sim-local-key";

export const DEMO_TENANT_ID = "demo";
export const DEMO_ISSUER = "https://demo.reelgate.local/";
export const DEMO_AUDIENCE = "reelgate";
export const DEMO_HS256_SECRET = process.env.DEMO_HS256_SECRET ?? "demo-tenant-hs256-secret-0123456789abcdef";
export const DEMO_WEBHOOK_SECRET = "whsec_ZGVtby13ZWJob29rLXNlY3JldC0wMTIzNDU2Nzg5YWI=";
