// The contract helpers the gateway's contract tests use: request bodies against their model's request schema
// (flash and non-flash files), task details against TaskDetailResponse, with the files' local $refs resolved.
import { describe, expect, it } from "vitest";
import {
  FLASH_FILE,
  NON_FLASH_FILE,
  validateAgainstContract,
  validateTaskDetail,
  validateWith,
} from "../../sim/src/contract";
import {
  contract,
  createRequest,
  createTask,
  makeSim,
  NO_CONTRACT,
  queryRequest,
  validBody,
} from "./helpers";

describe.skipIf(!contract)(`contract helpers (${contract ? "on" : NO_CONTRACT})`, () => {
  const docs = contract as Record<string, unknown>;

  it("validateAgainstContract accepts a valid body and names each problem of a bad one", () => {
    expect(validateAgainstContract(docs, validBody({ duration: 5, generate_audio: true }))).toEqual([]);
    const errors = validateAgainstContract(
      docs,
      validBody({ duration: "5", generate_audio: 1, prompt: undefined }),
    );
    expect(errors.some((e) => e.startsWith("duration:"))).toBe(true);
    expect(errors.some((e) => e.startsWith("generate_audio:"))).toBe(true);
    expect(validateAgainstContract(docs, { prompt: "x" })).toEqual(
      expect.arrayContaining([expect.stringContaining('"model"'), expect.stringContaining('"video_urls"')]),
    );
  });

  it("validateAgainstContract checks a non-flash body against the non-flash file", () => {
    const nonFlash = validBody({ model: "wan2.6-reference-video", duration: 10, quality: "1080p" });
    expect(validateAgainstContract(docs, nonFlash)).toEqual([]);
    // The flash model's name is not in the non-flash file's enum, and the reverse.
    expect(validateWith(docs, NON_FLASH_FILE, "Wan26ReferenceVideoRequest", validBody())).toEqual([
      expect.stringMatching(/^model: /),
    ]);
    expect(validateAgainstContract(docs, { ...nonFlash, duration: 11 })).toEqual([
      expect.stringMatching(/^duration: /),
    ]);
    expect(() => validateAgainstContract({ [FLASH_FILE]: docs[FLASH_FILE] }, nonFlash)).toThrow(
      /openapi-wan2\.6-reference-video\.json/,
    );
  });

  it("the simulator answers a non-flash create with a valid non-flash VideoGenerationResponse", async () => {
    const { sim } = makeSim();
    const res = await sim.fetch(createRequest(validBody({ model: "wan2.6-reference-video" })));
    const answer = (await res.json()) as Record<string, unknown>;
    expect(answer.model).toBe("wan2.6-reference-video");
    expect(validateWith(docs, NON_FLASH_FILE, "VideoGenerationResponse", answer)).toEqual([]);
  });

  it("resolves local $refs: the create answer checks against VideoGenerationResponse → VideoTaskInfo/Usage", async () => {
    const { sim } = makeSim();
    const answer = (await (await sim.fetch(createRequest(validBody()))).json()) as Record<string, unknown>;
    const check = (body: unknown) => validateWith(docs, FLASH_FILE, "VideoGenerationResponse", body);
    expect(check(answer)).toEqual([]);
    expect(check({ ...answer, task_info: { can_cancel: true, estimated_time: -1 } })).toEqual([
      expect.stringMatching(/^task_info\/estimated_time: /),
    ]);
    expect(check({ ...answer, usage: { billing_rule: "per_minute" } })).toEqual([
      expect.stringMatching(/^usage\/billing_rule: /),
    ]);
  });

  it("validateTaskDetail accepts the simulator's pending, processing, completed and failed views", async () => {
    const { sim, clock } = makeSim();
    const ok = await createTask(sim);
    const bad = await createTask(sim, { prompt: "[sim:fail] dance" });
    for (const at of [0, 2_000, 5_000]) {
      clock.set(sim.task(ok)!.createdAt + at);
      for (const id of [ok, bad]) {
        const detail = await (await sim.fetch(queryRequest(id))).json();
        expect(validateTaskDetail(docs, detail)).toEqual([]);
      }
    }
    expect(sim.task(bad)?.status).toBe("failed");
  });

  it("validateTaskDetail rejects an undocumented status and a non-URI result", () => {
    const errors = validateTaskDetail(docs, { status: "done", results: ["not a uri"] });
    expect(errors).toEqual(
      expect.arrayContaining([expect.stringMatching(/^status: /), expect.stringMatching(/^results\/0: /)]),
    );
  });

  it("throws when the contract lacks the file, instead of passing everything", () => {
    expect(() => validateAgainstContract({}, validBody())).toThrow(
      /openapi-wan2\.6-reference-video-flash\.json/,
    );
    expect(() => validateTaskDetail({}, {})).toThrow(/openapi-get-task-detail\.json/);
  });
});
