// The tenant object's SQLite schema as one ordered list: every step of every concern, in the order a new
// object applies them. Each concern keeps its own steps beside its table code; this list alone decides
// their order, and a step a concern adds is refused until it is placed here. Append; never reorder or edit a
// shipped step (src/state/migrations.ts records each one by name).
import { HEALTH_MIGRATIONS } from "../callbacks/health";
import { CALLBACK_MIGRATIONS, OUTBOX_HOLD_MIGRATIONS } from "../callbacks/migrations";
import { FILE_MIGRATIONS } from "../files/table";
import { QUOTA_MIGRATIONS } from "../quota/migrations";
import { RESULT_MIGRATIONS } from "../results/table";
import type { Migration } from "../state/migrations";
import { TASK_LIST_MIGRATIONS } from "../tasks/list";
import { TASK_MIGRATIONS } from "../tasks/table";

const ORDER = [
  "tasks/1",
  "tasks/2",
  "tasks/3",
  "tasks/sweep-deadlines",
  "callbacks/1",
  "quota/1",
  "quota/2",
  "tasklist/1",
  "files/1",
  "callbacks/2",
  "tasks/retention",
  "results/1",
  "callbacks/3",
  "quota/alerts",
  "callbacks/health",
  "callbacks/hold",
] as const;

/** `steps` in the order `order` names them; a step not named, or a name with no step, is a bug: it throws. */
export function inOrder(steps: readonly Migration[], order: readonly string[]): Migration[] {
  const byName = new Map(steps.map((s) => [s.name, s]));
  const unplaced = steps.filter((s) => !order.includes(s.name));
  if (unplaced.length)
    throw new Error(`migrations not placed in ORDER: ${unplaced.map((s) => s.name).join(", ")}`);
  return order.map((name) => {
    const step = byName.get(name);
    if (!step) throw new Error(`migration ${name} is in ORDER but no concern defines it`);
    return step;
  });
}

export const TENANT_OBJECT_MIGRATIONS: readonly Migration[] = inOrder(
  [
    ...TASK_MIGRATIONS,
    ...CALLBACK_MIGRATIONS,
    ...HEALTH_MIGRATIONS,
    ...OUTBOX_HOLD_MIGRATIONS,
    ...QUOTA_MIGRATIONS,
    ...TASK_LIST_MIGRATIONS,
    ...FILE_MIGRATIONS,
    ...RESULT_MIGRATIONS,
  ],
  ORDER,
);
