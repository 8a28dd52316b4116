// Schema of the per-tenant Durable Object's SQLite database, applied in order and recorded in
// `schema_version`, so a deployed object upgrades itself on first use. Append; never edit a shipped step.
const STEPS: readonly string[] = [
  `CREATE TABLE tasks (
     id TEXT PRIMARY KEY,
     sub TEXT,
     upstream_id TEXT,
     state TEXT NOT NULL,
     model TEXT NOT NULL,
     created_at INTEGER NOT NULL,
     updated_at INTEGER NOT NULL,
     ended_at INTEGER,
     callback_url TEXT,
     estimate REAL NOT NULL,
     reserved REAL NOT NULL,
     charged REAL,
     snapshot TEXT
   );
   CREATE INDEX tasks_upstream ON tasks (upstream_id);
   CREATE INDEX tasks_open ON tasks (ended_at, created_at);`,
];

export function migrate(sql: SqlStorage): void {
  sql.exec("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)");
  const row = sql.exec<{ version: number }>("SELECT version FROM schema_version").toArray()[0];
  const current = row?.version ?? 0;
  for (let v = current; v < STEPS.length; v++) sql.exec(STEPS[v]!);
  if (!row) sql.exec("INSERT INTO schema_version (version) VALUES (?)", STEPS.length);
  else if (current < STEPS.length) sql.exec("UPDATE schema_version SET version = ?", STEPS.length);
}
