import { sql, type Kysely, type Migration } from "kysely";
import { createTable } from "../../shared/db/schema.js";

/**
 * Volume transfers (the salted hash of the auth key, never the key) and the per-project default volume types
 * (3.62).
 */
export const transferMigration: Migration = {
  async up(db: Kysely<any>) {
    await createTable(db, "volume_transfer")
      .addColumn("id", sql.raw("varchar(36)"), (c) => c.primaryKey())
      .addColumn("volume_id", sql.raw("varchar(36)"), (c) => c.notNull().unique())
      .addColumn("name", sql.raw("varchar(255)"))
      .addColumn("source_project_id", sql.raw("varchar(255)"), (c) => c.notNull())
      .addColumn("salt", "varchar(32)", (c) => c.notNull())
      .addColumn("key_hash", "varchar(128)", (c) => c.notNull())
      .addColumn("no_snapshots", "integer", (c) => c.notNull())
      .addColumn("created_at", sql.raw("varchar(40)"), (c) => c.notNull())
      .execute();
    await createTable(db, "volume_default_type")
      .addColumn("project_id", sql.raw("varchar(255)"), (c) => c.primaryKey())
      .addColumn("volume_type_id", sql.raw("varchar(36)"), (c) => c.notNull())
      .execute();
  },
};
