// The task as a tenant sees it: the upstream's task object with the gateway's id in place of the
// upstream's, through an allow-list of fields (nothing else the upstream adds leaks through).
import type { UpstreamTask } from "../upstream/schema";

export interface TenantTaskView {
  id: string;
  object: string;
  model: string;
  type: string;
  created: number;
  status: string;
  progress: number;
  results?: string[];
  error?: { code: string; message: string; type: string } | null;
  task_info?: Record<string, unknown>;
  usage?: Record<string, unknown>;
}

export function presentTask(
  gatewayId: string,
  upstream: UpstreamTask,
  fallback: { model: string; createdMs: number },
): TenantTaskView {
  const view: TenantTaskView = {
    id: gatewayId,
    object: upstream.object ?? "video.generation.task",
    model: upstream.model ?? fallback.model,
    type: upstream.type ?? "video",
    created: upstream.created ?? Math.floor(fallback.createdMs / 1000),
    status: upstream.status,
    progress: upstream.progress ?? (upstream.status === "completed" ? 100 : 0),
  };
  if (upstream.results) view.results = upstream.results;
  if (upstream.error) {
    view.error = {
      code: String(upstream.error.code ?? "unknown_error"),
      message: upstream.error.message ?? "The task failed",
      type: "task_error",
    };
  }
  if (upstream.task_info) {
    const { can_cancel, estimated_time } = upstream.task_info;
    view.task_info = {
      ...(can_cancel !== undefined ? { can_cancel } : {}),
      ...(estimated_time !== undefined ? { estimated_time } : {}),
    };
  }
  return view;
}
