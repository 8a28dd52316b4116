// The Registry's SQLite, in order: the tenant records (src/tenants/registry-table.ts), then the outbox and
// delivery records of the operator's events about no tenant (src/callbacks/migrations.ts), then the
// operator's account (./balance.ts). Each list only grows at its end; no shipped step is ever edited.
import { CALLBACK_MIGRATIONS, OUTBOX_HOLD_MIGRATIONS } from "../callbacks/migrations";
import type { Migration } from "../state/migrations";
import { REGISTRY_MIGRATIONS } from "../tenants/registry-table";
import { BALANCE_MIGRATIONS } from "./balance";

export const REGISTRY_OBJECT_MIGRATIONS: readonly Migration[] = [
  ...REGISTRY_MIGRATIONS,
  ...CALLBACK_MIGRATIONS,
  ...BALANCE_MIGRATIONS,
  ...OUTBOX_HOLD_MIGRATIONS,
];
