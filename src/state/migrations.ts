// Schema of the per-tenant Durable Object's SQLite database. Each concern (tasks, quota, callbacks) owns
// its named migrations; each is applied once, in order, and recorded in `migrations`, so a deployed object
// upgrades itself on first use. Append new steps; never edit a shipped one.
export interface Migration {
  name: string;
  sql: string;
}

export function migrate(sql: SqlStorage, steps: readonly Migration[]): void {
  sql.exec("CREATE TABLE IF NOT EXISTS migrations (name TEXT PRIMARY KEY, applied_at INTEGER NOT NULL)");
  const done = new Set(
    sql
      .exec<{ name: string }>("SELECT name FROM migrations")
      .toArray()
      .map((r) => r.name),
  );
  for (const step of steps) {
    if (done.has(step.name)) continue;
    sql.exec(step.sql);
    sql.exec("INSERT INTO migrations (name, applied_at) VALUES (?, ?)", step.name, Date.now());
  }
}
