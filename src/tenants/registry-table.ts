// The Registry's SQLite: the authoritative tenant records (`tenants`), the issuer claims (`issuers`), what
// the KV replica holds of each tenant (`replica`) and the version sequence. Synchronous reads and writes
// only; the Registry calls them between awaits, so each write is one atomic step.
import type { Migration } from "../state/migrations";
import { type Tenant, TenantSchema } from "./schema";

export const REGISTRY_MIGRATIONS: readonly Migration[] = [
  {
    name: "registry/1",
    sql: "CREATE TABLE IF NOT EXISTS issuers (issuer TEXT PRIMARY KEY, tenant_id TEXT NOT NULL)",
  },
  {
    name: "registry/2",
    sql: `CREATE TABLE tenants (
            id TEXT PRIMARY KEY, incarnation TEXT NOT NULL, version INTEGER NOT NULL,
            name TEXT NOT NULL, status TEXT NOT NULL, issuer TEXT NOT NULL, record TEXT NOT NULL);
          CREATE TABLE replica (id TEXT PRIMARY KEY, version INTEGER NOT NULL, issuer TEXT);
          CREATE TABLE registry_seq (one INTEGER PRIMARY KEY CHECK (one = 1), version INTEGER NOT NULL);
          INSERT INTO registry_seq (one, version) VALUES (1, 0);`,
  },
];

export interface TenantSummary {
  id: string;
  name: string;
  status: string;
  issuer: string;
  incarnation: string;
  version: number;
}

/** One tenant whose KV documents differ from its record: write `record`, or remove them (`record` null). */
export interface ReplicaJob {
  id: string;
  record: Tenant | null;
  /** The issuer key KV holds for this tenant now (to delete when it changed). */
  replicaIssuer: string | null;
}

type Row = Record<string, SqlStorageValue>;

export class RegistryTable {
  constructor(private readonly sql: SqlStorage) {}

  get(id: string): Tenant | null {
    const row = this.sql.exec<{ record: string }>("SELECT record FROM tenants WHERE id = ?", id).toArray()[0];
    return row ? TenantSchema.parse(JSON.parse(row.record)) : null;
  }

  /** The tenant's current incarnation, without parsing its record (null: no such tenant). */
  incarnationOf(id: string): string | null {
    return (
      this.sql.exec<{ incarnation: string }>("SELECT incarnation FROM tenants WHERE id = ?", id).toArray()[0]
        ?.incarnation ?? null
    );
  }

  /** The tenant holding `issuer`, if any. */
  issuerOwner(issuer: string): string | null {
    return (
      this.sql
        .exec<{ tenant_id: string }>("SELECT tenant_id FROM issuers WHERE issuer = ?", issuer)
        .toArray()[0]?.tenant_id ?? null
    );
  }

  /** The next version: a Registry-wide sequence, so a tenant's versions rise even across re-creation. */
  nextVersion(): number {
    return this.sql
      .exec<{ version: number }>(
        "UPDATE registry_seq SET version = version + 1 WHERE one = 1 RETURNING version",
      )
      .one().version;
  }

  /** Stores the record and moves its issuer claim (the caller checked the claim is free or its own). */
  save(record: Tenant): void {
    this.sql.exec("DELETE FROM issuers WHERE tenant_id = ?", record.id);
    this.sql.exec("INSERT INTO issuers (issuer, tenant_id) VALUES (?, ?)", record.auth.issuer, record.id);
    this.sql.exec(
      `INSERT INTO tenants (id, incarnation, version, name, status, issuer, record) VALUES (?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET incarnation = excluded.incarnation, version = excluded.version,
         name = excluded.name, status = excluded.status, issuer = excluded.issuer, record = excluded.record`,
      record.id,
      record.incarnation,
      record.version,
      record.name,
      record.status,
      record.auth.issuer,
      JSON.stringify(record),
    );
  }

  /** Ends the tenant: its record and its issuer claim go (the replica row stays until KV is cleaned). */
  remove(id: string): void {
    this.sql.exec("DELETE FROM issuers WHERE tenant_id = ?", id);
    this.sql.exec("DELETE FROM tenants WHERE id = ?", id);
  }

  /**
   * A page of tenants by id, after `after`; `q` keeps those whose id, name or issuer contains it (any case).
   * Plain `instr`, not LIKE, so `%` and `_` in `q` match themselves.
   */
  list(q: string | null, after: string | null, limit: number): TenantSummary[] {
    const needle = q?.toLowerCase() ?? null;
    return this.sql
      .exec<Row>(
        `SELECT id, name, status, issuer, incarnation, version FROM tenants
          WHERE id > ?1 AND (?2 IS NULL OR instr(lower(id), ?2) > 0 OR instr(lower(name), ?2) > 0
                             OR instr(lower(issuer), ?2) > 0)
          ORDER BY id LIMIT ?3`,
        after ?? "",
        needle,
        limit,
      )
      .toArray()
      .map((r) => ({
        id: String(r.id),
        name: String(r.name),
        status: String(r.status),
        issuer: String(r.issuer),
        incarnation: String(r.incarnation),
        version: Number(r.version),
      }));
  }

  /** The first tenant whose KV documents lag its record, or that was removed and still has some. */
  nextReplicaJob(): ReplicaJob | null {
    const changed = this.sql
      .exec<{ id: string; record: string; replica_issuer: string | null }>(
        `SELECT t.id, t.record, r.issuer AS replica_issuer FROM tenants t LEFT JOIN replica r ON r.id = t.id
          WHERE r.id IS NULL OR r.version < t.version LIMIT 1`,
      )
      .toArray()[0];
    if (changed)
      return {
        id: changed.id,
        record: TenantSchema.parse(JSON.parse(changed.record)),
        replicaIssuer: changed.replica_issuer,
      };
    const removed = this.sql
      .exec<{ id: string; issuer: string | null }>(
        "SELECT r.id, r.issuer FROM replica r LEFT JOIN tenants t ON t.id = r.id WHERE t.id IS NULL LIMIT 1",
      )
      .toArray()[0];
    return removed ? { id: removed.id, record: null, replicaIssuer: removed.issuer } : null;
  }

  /** KV now holds `record` for the job's tenant (or nothing, when it was removed). */
  replicated(job: ReplicaJob): void {
    if (job.record === null) this.sql.exec("DELETE FROM replica WHERE id = ?", job.id);
    else
      this.sql.exec(
        `INSERT INTO replica (id, version, issuer) VALUES (?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET version = excluded.version, issuer = excluded.issuer`,
        job.id,
        job.record.version,
        job.record.auth.issuer,
      );
  }

  /** The version KV holds of a tenant (0: none). */
  replicaVersion(id: string): number {
    return (
      this.sql.exec<{ version: number }>("SELECT version FROM replica WHERE id = ?", id).toArray()[0]
        ?.version ?? 0
    );
  }
}
