// A simulated task's life, as pure functions of the sim clock: pending → processing (progress rising) →
// its outcome at `completeAfterMs`. Also the two JSON views of a task: the create answer
// (VideoGenerationResponse, README §1) and the task detail (TaskDetailResponse, README §3).
import { mediaUrl } from "./media";
import type { CreateBody, Outcome, SimTask, TaskStatus, Timings } from "./types";
import { creditsFor } from "./pricing";

export const ID_PREFIX = "task-unified-";
const ID_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";
const FAILED_ERROR = {
  code: "content_policy_violation",
  message: "Content policy violation.\nYour request was blocked by safety filters.",
  type: "task_error",
};

/** `task-unified-<unix seconds>-<8 lowercase alnum>`. */
export function newTaskId(nowMs: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  const suffix = Array.from(bytes, (b) => ID_ALPHABET[b % ID_ALPHABET.length]).join("");
  return `${ID_PREFIX}${Math.floor(nowMs / 1000)}-${suffix}`;
}

/** The forced outcome, else a `[sim:fail]` / `[sim:cancel]` prompt marker, else success. */
export function chooseOutcome(forced: Outcome | undefined, prompt: string): Outcome {
  if (forced) return forced;
  if (prompt.includes("[sim:fail]")) return "failed";
  if (prompt.includes("[sim:cancel]")) return "cancelled";
  return "completed";
}

export function newTask(
  request: CreateBody,
  outcome: Outcome,
  nowMs: number,
  resultBytes: number,
  idempotencyKey?: string,
): SimTask {
  const task: SimTask = {
    id: newTaskId(nowMs),
    created: Math.floor(nowMs / 1000),
    createdAt: nowMs,
    request,
    outcome,
    status: "pending",
    progress: 0,
    creditsReserved: creditsFor(request),
    resultBytes,
  };
  if (idempotencyKey) task.idempotencyKey = idempotencyKey;
  return task;
}

export function isTerminal(status: TaskStatus): boolean {
  return status === "completed" || status === "failed" || status === "cancelled";
}

/** Moves `task` to where the clock says it is. Returns true when it has just reached its outcome. */
export function advance(task: SimTask, nowMs: number, timings: Timings): boolean {
  if (isTerminal(task.status)) return false;
  const age = nowMs - task.createdAt;
  if (age >= timings.completeAfterMs) {
    task.status = task.outcome;
    task.progress = task.outcome === "completed" ? 100 : 0;
    task.finishedAt = task.createdAt + timings.completeAfterMs;
    return true;
  }
  if (age >= timings.processingAfterMs) {
    const span = Math.max(1, timings.completeAfterMs - timings.processingAfterMs);
    task.status = "processing";
    task.progress = Math.min(99, Math.max(1, Math.floor((99 * (age - timings.processingAfterMs)) / span)));
  }
  return false;
}

/** The 200 answer to a create (VideoGenerationResponse). */
export function createView(task: SimTask, timings: Timings): Record<string, unknown> {
  return {
    created: task.created,
    id: task.id,
    model: task.request.model,
    object: "video.generation.task",
    progress: 0,
    status: "pending",
    task_info: { can_cancel: true, estimated_time: Math.ceil(timings.completeAfterMs / 1000) },
    type: "video",
    usage: { billing_rule: "per_second", credits_reserved: task.creditsReserved, user_group: "default" },
  };
}

/**
 * The task query answer and callback body (TaskDetailResponse plus the `usage` EvoLink's client reads);
 * a completed task's `results` are its links on `mediaBaseUrl` (sim/src/media.ts serves them).
 */
export function detailView(task: SimTask, mediaBaseUrl: string): Record<string, unknown> {
  const view: Record<string, unknown> = {
    created: task.created,
    id: task.id,
    model: task.request.model,
    object: "video.generation.task",
    progress: task.progress,
    status: task.status,
    task_info: { can_cancel: !isTerminal(task.status) },
    type: "video",
  };
  if (task.status === "completed") {
    view.results = [mediaUrl(mediaBaseUrl, task.id)];
    view.usage = { credits_used: task.creditsReserved };
  } else if (task.status === "failed") {
    view.error = FAILED_ERROR;
  } else if (!isTerminal(task.status)) {
    view.usage = { credits_reserved: task.creditsReserved };
  }
  return view;
}
