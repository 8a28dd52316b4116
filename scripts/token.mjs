#!/usr/bin/env node
// `npm run token [-- --sub alice --ttl 3600]`: prints a JWT for the demo tenant that `npm start` creates.
import { SignJWT } from "jose";
import { parseArgs } from "node:util";
import { DEMO_AUDIENCE, DEMO_HS256_SECRET, DEMO_ISSUER } from "./demo.mjs";

const { values } = parseArgs({
  options: {
    sub: { type: "string", default: "demo-user" },
    ttl: { type: "string", default: "3600" },
    "no-sub": { type: "boolean" },
  },
});
let jwt = new SignJWT({})
  .setProtectedHeader({ alg: "HS256", typ: "JWT" })
  .setIssuer(DEMO_ISSUER)
  .setAudience(DEMO_AUDIENCE)
  .setIssuedAt()
  .setExpirationTime(`${Number(values.ttl)}s`);
if (!values["no-sub"]) jwt = jwt.setSubject(values.sub);
console.log(await jwt.sign(new TextEncoder().encode(DEMO_HS256_SECRET)));
