// Schema of the per-tenant Durable Object's SQLite database. Each concern (tasks, quota, callbacks) owns
// its named migrations; each is applied once, in order, and recorded in `migrations`, so a deployed object
// upgrades itself on first use. Append new steps; never edit a shipped one.
export interface Migration {
  name: string;
  sql: string;
}

/** The steps each database was migrated with, so an emptied one can be rebuilt (`remigrate`). */
const migratedWith = new WeakMap<SqlStorage, readonly Migration[]>();

export function migrate(sql: SqlStorage, steps: readonly Migration[]): void {
  migratedWith.set(sql, steps);
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

/** Rebuilds the empty schema after `deleteAll()`, with the steps `migrate` last applied to this database. */
export function remigrate(sql: SqlStorage): void {
  const steps = migratedWith.get(sql);
  if (!steps) throw new Error("remigrate: this database was never migrated");
  migrate(sql, steps);
}
