// GET /v1/tasks/{id} and a task's life on a manual clock: pending → processing with rising progress →
// completed (results, credits_used), or failed / cancelled when forced by nextOutcome or a prompt marker.
import { describe, expect, it } from "vitest";
import { createTask, errorOf, makeSim, queryRequest } from "./helpers";

async function detail(sim: ReturnType<typeof makeSim>["sim"], id: string): Promise<Record<string, unknown>> {
  const res = await sim.fetch(queryRequest(id));
  expect(res.status).toBe(200);
  return (await res.json()) as Record<string, unknown>;
}

describe("task progression", () => {
  it("goes pending → processing (progress rising) → completed with results and credits_used", async () => {
    const { sim, clock } = makeSim({ timings: { processingAfterMs: 1_000, completeAfterMs: 5_000 } });
    const id = await createTask(sim);
    const common = {
      id,
      model: "wan2.6-reference-video-flash",
      object: "video.generation.task",
      type: "video",
    };

    expect(await detail(sim, id)).toEqual({
      ...common,
      created: expect.any(Number),
      status: "pending",
      progress: 0,
      task_info: { can_cancel: true },
      usage: { credits_reserved: 23.8 },
    });
    clock.advance(999);
    expect(await detail(sim, id)).toMatchObject({ status: "pending", progress: 0 });

    clock.advance(1);
    const early = await detail(sim, id);
    clock.advance(2_000);
    const later = await detail(sim, id);
    expect(early).toMatchObject({ status: "processing", task_info: { can_cancel: true } });
    expect(later).toMatchObject({ status: "processing" });
    expect(early.progress as number).toBeGreaterThanOrEqual(1);
    expect(later.progress as number).toBeGreaterThan(early.progress as number);
    clock.advance(1_999);
    const last = await detail(sim, id);
    expect(last).toMatchObject({ status: "processing" });
    expect(last.progress as number).toBeGreaterThan(later.progress as number);
    expect(last.progress as number).toBeLessThan(100);

    clock.advance(1);
    const done = await detail(sim, id);
    expect(done).toEqual({
      ...common,
      created: expect.any(Number),
      status: "completed",
      progress: 100,
      results: [`https://media.sim.evolink.test/media/${id}.mp4`],
      task_info: { can_cancel: false },
      usage: { credits_used: 23.8 },
    });
    expect(done).not.toHaveProperty("error");
  });

  it("fails a task whose prompt carries [sim:fail]: content_policy_violation, no charge, no results", async () => {
    const { sim, clock } = makeSim();
    const id = await createTask(sim, { prompt: "A dance [sim:fail]" });
    clock.advance(5_000);
    const failed = await detail(sim, id);
    expect(failed).toMatchObject({ status: "failed", task_info: { can_cancel: false } });
    expect(failed.error).toEqual({
      code: "content_policy_violation",
      message: expect.stringContaining("Content policy violation"),
      type: "task_error",
    });
    expect(failed).not.toHaveProperty("results");
    expect(failed).not.toHaveProperty("usage");
  });

  it("cancels a task whose prompt carries [sim:cancel]", async () => {
    const { sim, clock } = makeSim();
    const id = await createTask(sim, { prompt: "[sim:cancel] A dance" });
    clock.advance(5_000);
    const cancelled = await detail(sim, id);
    expect(cancelled).toMatchObject({ status: "cancelled", task_info: { can_cancel: false } });
    expect(cancelled).not.toHaveProperty("results");
    expect(cancelled).not.toHaveProperty("usage");
  });

  it("applies nextOutcome to the next task only, over a prompt marker", async () => {
    const { sim, clock } = makeSim();
    sim.inject({ nextOutcome: "failed" });
    const forced = await createTask(sim, { prompt: "[sim:cancel]" });
    const normal = await createTask(sim);
    expect(sim.faults.nextOutcome).toBeUndefined();
    clock.advance(5_000);
    expect((await detail(sim, forced)).status).toBe("failed");
    expect((await detail(sim, normal)).status).toBe("completed");
  });

  it("stays terminal as time goes on", async () => {
    const { sim, clock } = makeSim();
    const id = await createTask(sim);
    clock.advance(60_000);
    expect(sim.task(id)).toMatchObject({ status: "completed", finishedAt: sim.task(id)!.createdAt + 5_000 });
    clock.advance(60_000);
    expect((await detail(sim, id)).status).toBe("completed");
    expect(sim.busy).toBe(false);
  });
});

describe("task query errors", () => {
  it("answers 400 invalid_task_id with param task_id for an id without the task-unified- prefix", async () => {
    const { sim } = makeSim();
    const res = await sim.fetch(queryRequest("1756817821-4x3rx6ny"));
    expect(res.status).toBe(400);
    expect(await res.json()).toEqual({
      error: {
        code: "invalid_task_id",
        message: "Invalid task ID format, must start with 'task-unified-'",
        type: "invalid_request_error",
        param: "task_id",
      },
    });
  });

  it("answers 404 task_not_found for an unknown id", async () => {
    const { sim } = makeSim();
    const res = await sim.fetch(queryRequest("task-unified-1756817821-4x3rx6ny"));
    expect(res.status).toBe(404);
    expect(await errorOf(res)).toEqual({
      code: "task_not_found",
      message: "The requested task could not be found",
      type: "invalid_request_error",
    });
  });

  it("answers unknown routes 404 and wrong methods 405, in the upstream's error shape", async () => {
    const { sim } = makeSim();
    const notFound = await sim.fetch(new Request("https://api.evolink.test/v1/tasks"));
    expect(notFound.status).toBe(404);
    expect(await errorOf(notFound)).toMatchObject({ code: "not_found" });
    const wrong = await sim.fetch(new Request("https://api.evolink.test/v1/videos/generations"));
    expect(wrong.status).toBe(405);
    expect(await errorOf(wrong)).toMatchObject({ code: "method_not_allowed" });
  });
});
