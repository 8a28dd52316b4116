// POST /v1/videos/generations validation: every documented prose rule (checked with or without the OpenAPI
// files), the strictness on unknown fields, what only the OpenAPI schema catches, and the 200 answer's shape.
import { describe, expect, it } from "vitest";
import { contract, createRequest, errorOf, makeSim, NO_CONTRACT, validBody } from "./helpers";

const LONG_URL = `https://hooks.example.com/${"a".repeat(2049 - "https://hooks.example.com/".length)}`;

/** [name, body overrides (undefined deletes the field), fragment the 400 message must contain] */
const REJECTED: Array<[string, Record<string, unknown>, string]> = [
  ["unknown top-level field", { seed: 42 }, "unknown field seed"],
  ["missing model", { model: undefined }, "model must be one of wan2.6-reference-video-flash, "],
  ["another model", { model: "wan2.6-reference-video-pro" }, "model must be one of"],
  [
    "generate_audio for the non-flash model",
    { model: "wan2.6-reference-video", generate_audio: true },
    "unknown field generate_audio",
  ],
  ["missing prompt", { prompt: undefined }, "prompt is required"],
  ["prompt of 1501 characters", { prompt: "x".repeat(1501) }, "prompt must be at most 1500 characters"],
  ["missing video_urls", { video_urls: undefined }, "video_urls is required"],
  ["empty video_urls", { video_urls: [] }, "video_urls must hold 1 to 3 URLs (got 0)"],
  ["four video_urls", { video_urls: Array(4).fill("https://cdn.example.com/a.mp4") }, "(got 4)"],
  [
    "a video_url that is not a URL",
    { video_urls: ["not a url"] },
    "video_urls[0] must be an http or https URL",
  ],
  ["an ftp video_url", { video_urls: ["ftp://cdn.example.com/a.mp4"] }, "video_urls[0]"],
  ["aspect_ratio 21:9", { aspect_ratio: "21:9" }, "aspect_ratio must be one of 16:9, 9:16, 1:1, 4:3, 3:4"],
  ["quality 4k", { quality: "4k" }, "quality must be one of 720p, 1080p"],
  ["duration 1", { duration: 1 }, "duration must be an integer from 2 to 10"],
  ["duration 11", { duration: 11 }, "duration must be an integer from 2 to 10"],
  ["duration 5.5", { duration: 5.5 }, "duration must be an integer"],
  [
    "shot_type pan",
    { model_params: { shot_type: "pan" } },
    "model_params.shot_type must be one of single, multi",
  ],
  ["unknown model_params field", { model_params: { seed: 1 } }, "unknown field model_params.seed"],
  ["generate_audio under model_params", { model_params: { generate_audio: true } }, "top-level field"],
  ["generate_audio as a string", { generate_audio: "yes" }, "generate_audio must be true or false"],
  ["http callback_url", { callback_url: "http://hooks.example.com/cb" }, "callback_url must use https"],
  ["callback_url not a URL", { callback_url: "hooks" }, "callback_url must be an absolute https URL"],
  ["callback_url over 2048 chars", { callback_url: LONG_URL }, "at most 2048 characters"],
  ["callback_url to 127.0.0.1", { callback_url: "https://127.0.0.1/cb" }, "internal address"],
  ["callback_url to 10.x", { callback_url: "https://10.1.2.3/cb" }, "internal address"],
  ["callback_url to 172.16-31.x", { callback_url: "https://172.20.0.1/cb" }, "internal address"],
  ["callback_url to 192.168.x", { callback_url: "https://192.168.1.1/cb" }, "internal address"],
  ["callback_url to localhost", { callback_url: "https://localhost:8787/cb" }, "internal address"],
  ["callback_url to [::1]", { callback_url: "https://[::1]/cb" }, "internal address"],
];

function withOverrides(overrides: Record<string, unknown>): Record<string, unknown> {
  const body = validBody(overrides);
  for (const [k, v] of Object.entries(overrides)) if (v === undefined) delete body[k];
  return body;
}

const MODES: Array<[string, Record<string, unknown> | null]> = [["prose rules alone (no contract)", null]];
if (contract) MODES.push(["prose rules + OpenAPI contract", contract]);

describe.each(MODES)("create validation: %s", (_mode, modeContract) => {
  it.each(REJECTED)("rejects %s with 400 invalid_request", async (_name, overrides, fragment) => {
    const { sim } = makeSim({ contract: modeContract });
    const res = await sim.fetch(createRequest(withOverrides(overrides)));
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error).toMatchObject({ code: "invalid_request", type: "invalid_request_error" });
    expect(error.message).toContain(fragment);
    expect(sim.tasks()).toHaveLength(0);
  });

  it("rejects a body that is not JSON, not an object, or not sent as application/json", async () => {
    const { sim } = makeSim({ contract: modeContract });
    const cases: Array<[Request, string]> = [
      [createRequest("{not json"), "body must be valid JSON"],
      [createRequest("[1,2]"), "body must be a JSON object"],
      [createRequest(validBody(), { "content-type": "text/plain" }), "Content-Type must be application/json"],
    ];
    for (const [request, fragment] of cases) {
      const res = await sim.fetch(request);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toContain(fragment);
    }
    expect(sim.tasks()).toHaveLength(0);
  });

  it("accepts every documented field at its limits", async () => {
    const { sim } = makeSim({ contract: modeContract });
    const body = validBody({
      prompt: "p".repeat(1500),
      video_urls: [
        "https://cdn.example.com/a.mp4",
        "http://cdn.example.com/b.mov",
        "https://cdn.example.com/c.mp4",
      ],
      aspect_ratio: "3:4",
      quality: "1080p",
      duration: 10,
      model_params: { shot_type: "multi" },
      generate_audio: false,
      callback_url: "https://hooks.example.com/evolink",
    });
    const res = await sim.fetch(createRequest(body));
    expect(res.status).toBe(200);
    expect(sim.tasks()[0]?.request).toEqual(body);
  });

  it("accepts the non-flash model with every field it documents", async () => {
    const { sim } = makeSim({ contract: modeContract });
    const body = validBody({
      model: "wan2.6-reference-video",
      aspect_ratio: "9:16",
      quality: "1080p",
      duration: 10,
      model_params: { shot_type: "single" },
      callback_url: "https://hooks.example.com/evolink",
    });
    const res = await sim.fetch(createRequest(body));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ model: "wan2.6-reference-video" });
  });
});

describe("create answer", () => {
  it("is a VideoGenerationResponse with per-second credits reserved", async () => {
    const { sim } = makeSim();
    const res = await sim.fetch(createRequest(validBody()));
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(res.headers.get("idempotency-replayed")).toBeNull();
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toEqual({
      created: Math.floor(Date.UTC(2026, 10, 24, 12) / 1000),
      id: expect.stringMatching(
        new RegExp(`^task-unified-${Math.floor(Date.UTC(2026, 10, 24, 12) / 1000)}-[a-z0-9]{8}$`),
      ),
      model: "wan2.6-reference-video-flash",
      object: "video.generation.task",
      progress: 0,
      status: "pending",
      task_info: { can_cancel: true, estimated_time: 5 },
      type: "video",
      usage: { billing_rule: "per_second", credits_reserved: 23.8, user_group: "default" },
    });
  });

  it.each([
    [
      "3 clips, 10 s, 1080p, silent",
      {
        video_urls: Array(3).fill("https://c.example.com/a.mp4"),
        duration: 10,
        quality: "1080p",
        generate_audio: false,
      },
      29.71,
    ],
    ["the 9-credit minimum", { duration: 2, generate_audio: false }, 9],
    // (5 s input + 5 s) × 4.76 credits/s; 15 s at 1080p: 15 × 4.76 × 1.67 = 119.238
    ["the non-flash model", { model: "wan2.6-reference-video" }, 47.6],
    [
      "the non-flash model at 1080p",
      { model: "wan2.6-reference-video", duration: 10, quality: "1080p" },
      119.24,
    ],
  ])("prices %s", async (_name, overrides, credits) => {
    const { sim } = makeSim();
    const body = (await (await sim.fetch(createRequest(validBody(overrides)))).json()) as { usage: unknown };
    expect(body.usage).toMatchObject({ credits_reserved: credits });
  });

  it("allows http and internal callback URLs only when allowLocalCallbacks is set", async () => {
    const body = validBody({ callback_url: "http://127.0.0.1:8787/upstream/callback" });
    expect((await makeSim().sim.fetch(createRequest(body))).status).toBe(400);
    expect((await makeSim({ allowLocalCallbacks: true }).sim.fetch(createRequest(body))).status).toBe(200);
  });
});

describe.skipIf(!contract)(
  `create validation against the OpenAPI contract (${contract ? "on" : NO_CONTRACT})`,
  () => {
    it("accepts the OpenAPI example body", async () => {
      const doc = contract?.["openapi-wan2.6-reference-video-flash.json"] as {
        paths: Record<
          string,
          {
            post: {
              requestBody: { content: Record<string, { examples: Record<string, { value: unknown }> }> };
            };
          }
        >;
      };
      const example =
        doc.paths["/v1/videos/generations"]?.post.requestBody.content["application/json"]?.examples
          .reference_video?.value;
      expect(example).toBeDefined();
      const { sim } = makeSim();
      expect((await sim.fetch(createRequest(example))).status).toBe(200);
    });

    it("rejects what only the schema catches (a video URL that is not a `format: uri`)", async () => {
      const body = validBody({ video_urls: ["https://cdn.example.com/my clip.mp4"] });
      expect((await makeSim({ contract: null }).sim.fetch(createRequest(body))).status).toBe(200);
      const res = await makeSim().sim.fetch(createRequest(body));
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toMatch(/schema: video_urls\/0: .*format "uri"/);
    });
  },
);
