// Where the CPU of a generation request goes once the caller is authenticated: reading the JSON body,
// validating it against the contract, the tenant's policy, the rewrite for the upstream, the signed task id
// and callback URL, and on the way back parsing the upstream's answer and presenting it to the tenant.
import { expect, test } from "vitest";
import { callbackUrl, signCallbackToken } from "../src/callbacks/token";
import { enforcePolicy } from "../src/generations/policy";
import { toUpstreamRequest } from "../src/generations/rewrite";
import { parseGenerationRequest } from "../src/generations/schema";
import { readJsonBody } from "../src/http/body";
import { openTaskId, sealTaskId } from "../src/tasks/ids";

const BINDING = { tenantId: "acme", incarnation: "acmelife0" };
const CLAIMS = {
  row: "0123456789abcdef0123",
  upstreamId: "task-unified-1757165031-uyujaw3d",
  subHash: new Uint8Array(8),
  createdSec: 1757165031,
  model: "wan2.6-reference-video-flash",
};
import { presentTask } from "../src/tasks/present";
import { UpstreamTaskSchema } from "../src/upstream/schema";
import { compareOps } from "./micro";

const SECRET = "signing-secret-for-bench-0123456789abcdef";
const BODY = {
  model: "wan2.6-reference-video-flash",
  prompt: "A person dancing in the rain, slow camera pan",
  video_urls: ["https://cdn.acme.example/ref.mp4", "https://cdn.acme.example/ref-2.mp4"],
  quality: "1080p",
  duration: 5,
  callback_url: "https://hooks.acme.example/reelgate",
};
const POLICY = {
  allowed_qualities: ["720p", "1080p"] as ("720p" | "1080p")[],
  max_duration: 10,
  callback_hosts: ["*.acme.example"],
};
const UPSTREAM_ANSWER = {
  created: 1795539268,
  id: "task-unified-1795539268-abcdefgh",
  model: "wan2.6-reference-video-flash",
  object: "video.generation.task",
  progress: 0,
  status: "pending",
  task_info: { can_cancel: true, estimated_time: 120 },
  type: "video",
  usage: { billing_rule: "per_second", credits_reserved: 50, user_group: "default" },
};
const text = JSON.stringify(BODY);
const options = { allowLocalUrls: false };

function validateAndRewrite(): unknown {
  const request = parseGenerationRequest(BODY, options);
  enforcePolicy(request, { policy: POLICY });
  return toUpstreamRequest(request, { callbackUrl: "https://gateway.reelgate.test/callbacks/upstream/x.y" });
}

test("generation request: validation, policy, rewrite, ids", async ({ bench }) => {
  expect(validateAndRewrite()).toMatchObject({ quality: "1080p", callback_url: expect.any(String) });
  const request = parseGenerationRequest(BODY, options);
  const id = await sealTaskId(SECRET, BINDING, CLAIMS);
  expect(await openTaskId(SECRET, BINDING, id)).toMatchObject({ upstreamId: CLAIMS.upstreamId });
  const upstream = UpstreamTaskSchema.parse(UPSTREAM_ANSWER);
  const answer = JSON.stringify(UPSTREAM_ANSWER);

  const post = () =>
    new Request("https://g.test/", {
      method: "POST",
      body: text,
      headers: { "content-type": "application/json" },
    });
  await compareOps(bench, "Generation request", [
    { name: "new Request (baseline for the next line)", op: post },
    {
      name: "read JSON body (Request → object)",
      op: () =>
        readJsonBody(
          new Request("https://g.test/", {
            method: "POST",
            body: text,
            headers: { "content-type": "application/json" },
          }),
          65_536,
        ),
    },
    { name: "validate (schema + URL rules)", op: () => parseGenerationRequest(BODY, options) },
    { name: "tenant policy", op: () => enforcePolicy(request, { policy: POLICY }) },
    {
      name: "rewrite for the upstream",
      op: () => toUpstreamRequest(request, { callbackUrl: "https://g.test/cb/x" }),
    },
    { name: "validate + policy + rewrite", op: validateAndRewrite },
    { name: "seal task id (AES-GCM)", op: () => sealTaskId(SECRET, BINDING, CLAIMS) },
    { name: "open task id (AES-GCM)", op: () => openTaskId(SECRET, BINDING, id) },
    {
      name: "signed callback URL (HMAC)",
      op: async () =>
        callbackUrl("https://g.test", await signCallbackToken(SECRET, { ...BINDING, taskId: CLAIMS.row })),
    },
    { name: "parse upstream answer (JSON + schema)", op: () => UpstreamTaskSchema.parse(JSON.parse(answer)) },
    {
      name: "present task to tenant",
      op: () => presentTask(id, upstream, { model: BODY.model, createdMs: 0 }),
    },
  ]);
});
