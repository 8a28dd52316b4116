// parseGenerationRequest: every field rule, the defaults, the generate_audio move, unknown fields, and
// the shape of the one error a bad request gets (400 invalid_request + param + a message to act on).
import { describe, expect, it } from "vitest";
import {
  WAN26_REFERENCE_VIDEO,
  WAN26_REFERENCE_VIDEO_FLASH,
  type ModelRegistry,
} from "../../src/upstream/models";
import { parseGenerationRequest } from "../../src/generations/schema";
import { ApiError } from "../../src/http/errors";

const MODEL = "wan2.6-reference-video-flash";
const VIDEO = "https://cdn.example.com/ref/dancer.mp4";
/** The registered model ids, as the model errors list them. */
const IDS = `"${MODEL}", "wan2.6-reference-video"`;
const minimal = () => ({ model: MODEL, prompt: "A person dancing", video_urls: [VIDEO] });
const parse = (body: unknown, allowLocalUrls = false) => parseGenerationRequest(body, { allowLocalUrls });

/** The ApiError thrown by parsing `body`. */
function error(body: unknown, allowLocalUrls = false): ApiError {
  try {
    parse(body, allowLocalUrls);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    return err as ApiError;
  }
  throw new Error("expected the request to be refused");
}

function expectInvalid(body: unknown, param: string | undefined, message: string | RegExp) {
  const err = error(body);
  expect(err.code).toBe("invalid_request");
  expect(err.status).toBe(400);
  expect(err.param).toBe(param);
  if (typeof message === "string") expect(err.message).toBe(message);
  else expect(err.message).toMatch(message);
}

describe("a valid request", () => {
  it("gets every default made explicit", () => {
    expect(parse(minimal())).toEqual({
      model: MODEL,
      prompt: "A person dancing",
      video_urls: [VIDEO],
      aspect_ratio: "16:9",
      quality: "720p",
      duration: 5,
      generate_audio: true,
    });
  });

  it("keeps every field it was given", () => {
    const req = parse({
      ...minimal(),
      video_urls: [VIDEO, "http://cdn.example.com/b.mov", "https://cdn.example.com/c.mp4?sig=a%2Fb"],
      aspect_ratio: "3:4",
      quality: "1080p",
      duration: 10,
      generate_audio: false,
      model_params: { shot_type: "multi" },
      callback_url: "https://hooks.example.com/reel?id=1",
    });
    expect(req).toEqual({
      model: MODEL,
      prompt: "A person dancing",
      video_urls: [VIDEO, "http://cdn.example.com/b.mov", "https://cdn.example.com/c.mp4?sig=a%2Fb"],
      aspect_ratio: "3:4",
      quality: "1080p",
      duration: 10,
      generate_audio: false,
      shot_type: "multi",
      callback_url: "https://hooks.example.com/reel?id=1",
    });
  });

  it.each(["16:9", "9:16", "1:1", "4:3", "3:4"])("accepts aspect_ratio %s", (aspect_ratio) => {
    expect(parse({ ...minimal(), aspect_ratio }).aspect_ratio).toBe(aspect_ratio);
  });

  it.each([2, 3, 9, 10])("accepts duration %i", (duration) => {
    expect(parse({ ...minimal(), duration }).duration).toBe(duration);
  });

  it("accepts duration 5.0 (JSON has one number type; 5.0 is the integer 5)", () => {
    expect(
      parse(JSON.parse(`{"model":"${MODEL}","prompt":"p","video_urls":["${VIDEO}"],"duration":5.0}`))
        .duration,
    ).toBe(5);
  });

  it("canonicalises URLs to what was checked", () => {
    const req = parse({
      ...minimal(),
      video_urls: ["HTTPS://CDN.Example.com/clips/café.mp4"],
      callback_url: "https://Hooks.Example.com",
    });
    expect(req.video_urls).toEqual(["https://cdn.example.com/clips/caf%C3%A9.mp4"]);
    expect(req.callback_url).toBe("https://hooks.example.com/");
  });
});

describe("the body and the model", () => {
  it.each([
    [null, "Request body must be a JSON object, got null"],
    [[minimal()], "Request body must be a JSON object, got an array"],
    ["text", 'Request body must be a JSON object, got a string ("text")'],
    [42, "Request body must be a JSON object, got 42"],
  ])("refuses a body that is %j", (body, message) => {
    expectInvalid(body, undefined, message);
  });

  it("requires the model", () => {
    const { model: _, ...rest } = minimal();
    expectInvalid(rest, "model", `model is required (one of ${IDS})`);
  });

  it.each([
    [
      "wan2.6-reference-video-pro",
      `model must be one of ${IDS}, got a string ("wan2.6-reference-video-pro")`,
    ],
    ["WAN2.6-REFERENCE-VIDEO-FLASH", /^model must be one of/],
    [7, `model must be one of ${IDS}, got 7`],
    [null, `model must be one of ${IDS}, got null`],
  ])("refuses model %j", (model, message) => {
    expectInvalid({ ...minimal(), model }, "model", message);
  });
});

describe("prompt", () => {
  it("is required and must be a string", () => {
    const { prompt: _, ...rest } = minimal();
    expectInvalid(rest, "prompt", "prompt is required");
    expectInvalid({ ...minimal(), prompt: 5 }, "prompt", "prompt must be a string, got 5");
    expectInvalid({ ...minimal(), prompt: ["a"] }, "prompt", "prompt must be a string, got an array");
  });

  it("counts Unicode code points: 1500 emoji pass, 1501 fail", () => {
    const emoji = "🎬"; // two UTF-16 units, one code point
    expect(emoji.length).toBe(2);
    expect(parse({ ...minimal(), prompt: emoji.repeat(1500) }).prompt).toHaveLength(3000);
    expectInvalid(
      { ...minimal(), prompt: emoji.repeat(1501) },
      "prompt",
      "prompt must be at most 1500 characters (Unicode code points), got 1501",
    );
  });

  it("counts plain characters the same way", () => {
    expect(parse({ ...minimal(), prompt: "a".repeat(1500) }).prompt).toHaveLength(1500);
    expectInvalid({ ...minimal(), prompt: "a".repeat(1501) }, "prompt", /got 1501$/);
    expectInvalid({ ...minimal(), prompt: "a".repeat(1499) + "🎬🎬" }, "prompt", /got 1501$/);
    expect(parse({ ...minimal(), prompt: "é".normalize("NFD").repeat(750) }).prompt).toHaveLength(1500);
  });

  it("refuses an empty, blank or malformed prompt", () => {
    expectInvalid({ ...minimal(), prompt: "" }, "prompt", "prompt must not be empty or blank");
    expectInvalid({ ...minimal(), prompt: " \n\t " }, "prompt", "prompt must not be empty or blank");
    expectInvalid(
      { ...minimal(), prompt: "cut \ud83c here" },
      "prompt",
      "prompt must be valid Unicode (it holds an unpaired surrogate)",
    );
  });
});

describe("video_urls", () => {
  it("holds 1 to 3 URLs", () => {
    const { video_urls: _, ...rest } = minimal();
    expectInvalid(rest, "video_urls", "video_urls is required");
    expectInvalid(
      { ...minimal(), video_urls: [] },
      "video_urls",
      "video_urls must hold at least 1 item(s), got 0",
    );
    expectInvalid(
      { ...minimal(), video_urls: [VIDEO, VIDEO, VIDEO, VIDEO] },
      "video_urls",
      "video_urls must hold at most 3 item(s), got 4",
    );
    expectInvalid(
      { ...minimal(), video_urls: VIDEO },
      "video_urls",
      /^video_urls must be an array, got a string/,
    );
  });

  it.each([
    [[VIDEO, 5], "video_urls[1]", "video_urls[1] must be a string, got 5"],
    [
      [VIDEO, "ftp://cdn.example.com/a.mp4"],
      "video_urls[1]",
      "video_urls[1] must be an absolute http(s):// URL",
    ],
    [["cdn.example.com/a.mp4"], "video_urls[0]", "video_urls[0] must be an absolute http(s):// URL"],
    [
      [VIDEO, VIDEO, "https://u:p@cdn.example.com/a.mp4"],
      "video_urls[2]",
      /^video_urls\[2\] must not contain credentials/,
    ],
    [["http://cdn.example.com/a b.mp4"], "video_urls[0]", /^video_urls\[0\] must not contain whitespace/],
    [["http://127.0.0.1/a.mp4"], "video_urls[0]", /^video_urls\[0\] must not point at a loopback, private/],
    [["http://2130706433/a.mp4"], "video_urls[0]", /must not point at/],
    [["http://[::ffff:10.0.0.1]/a.mp4"], "video_urls[0]", /must not point at/],
    [["http://192.168.0.10/a.mp4"], "video_urls[0]", /must not point at/],
    [
      ["https://cdn.example.com/" + "a".repeat(2030)],
      "video_urls[0]",
      "video_urls[0] must be at most 2048 characters long",
    ],
  ])("refuses %j", (video_urls, param, message) => {
    expectInvalid({ ...minimal(), video_urls }, param, message);
  });

  it("refuses loopback video URLs even with DEV_ALLOW_LOCAL_URLS (the upstream fetches them)", () => {
    const body = { ...minimal(), video_urls: ["http://localhost:8788/ref.mp4"] };
    expect(error(body).param).toBe("video_urls[0]");
    expect(error(body, true).param).toBe("video_urls[0]");
    expect(error({ ...minimal(), video_urls: ["http://10.0.0.5/ref.mp4"] }, true).param).toBe(
      "video_urls[0]",
    );
  });
});

describe("aspect_ratio, quality, duration", () => {
  it.each([
    [
      { aspect_ratio: "21:9" },
      "aspect_ratio",
      'aspect_ratio must be one of "16:9", "9:16", "1:1", "4:3", "3:4", got a string ("21:9")',
    ],
    [{ aspect_ratio: 1.77 }, "aspect_ratio", /^aspect_ratio must be one of .*, got 1\.77$/],
    [{ quality: "4k" }, "quality", 'quality must be one of "720p", "1080p", got a string ("4k")'],
    [{ quality: "720P" }, "quality", /^quality must be one of/],
    [{ quality: 720 }, "quality", /^quality must be one of .*, got 720$/],
    [{ duration: "5" }, "duration", 'duration must be a number, got a string ("5")'],
    [{ duration: 5.5 }, "duration", "duration must be an integer, got 5.5"],
    [{ duration: 1 }, "duration", "duration must be at least 2, got 1"],
    [{ duration: 11 }, "duration", "duration must be at most 10, got 11"],
    [{ duration: 0 }, "duration", "duration must be at least 2, got 0"],
    [{ duration: -5 }, "duration", "duration must be at least 2, got -5"],
    [{ duration: null }, "duration", "duration must be a number, got null"],
    [{ duration: true }, "duration", "duration must be a number, got true"],
    [{ duration: 1e21 }, "duration", /^duration must be/],
  ])("refuses %j", (fields, param, message) => {
    expectInvalid({ ...minimal(), ...fields }, param, message);
  });
});

describe("generate_audio", () => {
  it("must be a boolean", () => {
    expectInvalid(
      { ...minimal(), generate_audio: "false" },
      "generate_audio",
      'generate_audio must be a boolean (true or false), got a string ("false")',
    );
    expectInvalid(
      { ...minimal(), generate_audio: 0 },
      "generate_audio",
      "generate_audio must be a boolean (true or false), got 0",
    );
    expectInvalid(
      { ...minimal(), model_params: { generate_audio: "yes" } },
      "model_params.generate_audio",
      /^model_params.generate_audio must be a boolean/,
    );
  });

  it("is accepted under model_params and moved to the top level", () => {
    const req = parse({ ...minimal(), model_params: { generate_audio: false } });
    expect(req.generate_audio).toBe(false);
    expect(req).not.toHaveProperty("model_params");
    expect(req).not.toHaveProperty("shot_type");
  });

  it("may be given in both places when they agree", () => {
    expect(
      parse({ ...minimal(), generate_audio: false, model_params: { generate_audio: false } }).generate_audio,
    ).toBe(false);
    expect(
      parse({ ...minimal(), generate_audio: true, model_params: { generate_audio: true } }).generate_audio,
    ).toBe(true);
  });

  it("refuses a contradiction between the two", () => {
    expectInvalid(
      { ...minimal(), generate_audio: true, model_params: { generate_audio: false } },
      "model_params.generate_audio",
      "model_params.generate_audio (false) contradicts generate_audio (true); send it once, at the top level",
    );
    expectInvalid(
      { ...minimal(), generate_audio: false, model_params: { generate_audio: true } },
      "model_params.generate_audio",
      /contradicts/,
    );
  });
});

describe("model_params", () => {
  it.each(["single", "multi"])("accepts shot_type %s", (shot_type) => {
    expect(parse({ ...minimal(), model_params: { shot_type } }).shot_type).toBe(shot_type);
  });

  it("accepts an empty model_params", () => {
    expect(parse({ ...minimal(), model_params: {} })).not.toHaveProperty("shot_type");
  });

  it.each([
    [
      { shot_type: "double" },
      "model_params.shot_type",
      'model_params.shot_type must be one of "single", "multi", got a string ("double")',
    ],
    [{ shot_type: null }, "model_params.shot_type", /^model_params.shot_type must be one of/],
    [{ seed: 42 }, "model_params.seed", /^Unknown field "model_params.seed"/],
    [
      { shot_typ: "single" },
      "model_params.shot_typ",
      'Unknown field "model_params.shot_typ" (did you mean "model_params.shot_type"?). Unknown fields are refused so that a typo cannot cost a render.',
    ],
  ])("refuses model_params %j", (model_params, param, message) => {
    expectInvalid({ ...minimal(), model_params }, param, message);
  });

  it("must be an object", () => {
    expectInvalid(
      { ...minimal(), model_params: "multi" },
      "model_params",
      'model_params must be an object, got a string ("multi")',
    );
    expectInvalid(
      { ...minimal(), model_params: null },
      "model_params",
      "model_params must be an object, got null",
    );
  });
});

describe("unknown fields", () => {
  it.each([
    ["durration", 'Unknown field "durration" (did you mean "duration"?)'],
    ["Quality", 'Unknown field "Quality" (did you mean "quality"?)'],
    ["callbackUrl", 'Unknown field "callbackUrl"'],
    ["negative_prompt", 'Unknown field "negative_prompt"'],
    ["shot_type", 'Unknown field "shot_type"'],
    ["__proto__", 'Unknown field "__proto__"'],
  ])("refuses %s, naming it", (field, start) => {
    const body = JSON.parse(JSON.stringify(minimal()).replace("{", `{"${field}":1,`)) as unknown;
    const err = error(body);
    expect(err.code).toBe("invalid_request");
    expect(err.param).toBe(field);
    expect(err.message.startsWith(start)).toBe(true);
    expect(err.message).toContain("Unknown fields are refused so that a typo cannot cost a render.");
  });

  it("refuses an unknown field even when everything else is valid and defaulted", () => {
    expect(error({ ...minimal(), resolution: "1080p" }).param).toBe("resolution");
  });
});

describe("callback_url", () => {
  const withCallback = (callback_url: unknown) => ({ ...minimal(), callback_url });

  it.each([
    [5, "callback_url must be a string, got 5"],
    ["http://hooks.example.com/cb", "callback_url must use https"],
    ["hooks.example.com/cb", "callback_url must be an absolute https:// URL"],
    ["https://user:pw@hooks.example.com/", "callback_url must not contain credentials (user:password@)"],
    ["https://hooks.example.com/" + "a".repeat(2030), "callback_url must be at most 2048 characters long"],
  ])("refuses %j", (url, message) => {
    expectInvalid(withCallback(url), "callback_url", message);
  });

  it.each([
    "https://2130706433/cb",
    "https://0x7f.1/cb",
    "https://0177.0.0.1/cb",
    "https://127.1/cb",
    "https://[::ffff:127.0.0.1]/cb",
    "https://[::ffff:7f00:1]/cb",
    "https://[::1]/cb",
    "https://[fd00::1]/cb",
    "https://[fe80::1]/cb",
    "https://[64:ff9b::192.168.1.1]/cb",
    "https://localhost/cb",
    "https://localhost./cb",
    "https://hooks.localhost/cb",
    "https://169.254.169.254/latest/meta-data",
    "https://100.64.1.1/cb",
  ])("refuses the internal host of %s", (url) => {
    expectInvalid(
      withCallback(url),
      "callback_url",
      "callback_url must not point at a loopback, private, link-local or reserved address",
    );
  });

  it("allows http://localhost only with DEV_ALLOW_LOCAL_URLS", () => {
    expect(parse(withCallback("http://localhost:9999/cb"), true).callback_url).toBe(
      "http://localhost:9999/cb",
    );
    expect(parse(withCallback("http://127.0.0.1:9999/cb"), true).callback_url).toBe(
      "http://127.0.0.1:9999/cb",
    );
    expect(error(withCallback("http://192.168.0.2/cb"), true).param).toBe("callback_url");
    expect(error(withCallback("http://hooks.example.com/cb"), true).message).toBe(
      "callback_url must use https",
    );
  });
});

describe("a registry entry is all a model needs", () => {
  const both: ModelRegistry = new Map([
    [WAN26_REFERENCE_VIDEO_FLASH.id, WAN26_REFERENCE_VIDEO_FLASH],
    [WAN26_REFERENCE_VIDEO.id, WAN26_REFERENCE_VIDEO],
  ]);
  const nonFlash = { ...minimal(), model: "wan2.6-reference-video" };

  it("accepts the non-flash model, registered by default, without an audio switch", () => {
    expect(parseGenerationRequest(nonFlash, { allowLocalUrls: false })).toMatchObject({
      model: "wan2.6-reference-video",
      generate_audio: true,
      duration: 5,
    });
    expect(parseGenerationRequest(nonFlash, { allowLocalUrls: false, models: both })).toMatchObject({
      model: "wan2.6-reference-video",
      generate_audio: true,
      duration: 5,
    });
  });

  it("refuses fields the entry does not list", () => {
    for (const body of [
      { ...nonFlash, generate_audio: false },
      { ...nonFlash, model_params: { generate_audio: false } },
    ]) {
      try {
        parseGenerationRequest(body, { allowLocalUrls: false, models: both });
        expect.unreachable();
      } catch (err) {
        expect((err as ApiError).message).toMatch(/^Unknown field "(model_params\.)?generate_audio"/);
      }
    }
  });
});
