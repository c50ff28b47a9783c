import { sql, type Kysely, type Migration } from "kysely";
import { createTable } from "../../shared/db/schema.js";

const id = "varchar(36)";
const time = "varchar(40)";
const name = "varchar(255)";

/** Volume backups (Cinder's backups table): the record, where the backup driver put it, and its parent. */
export const backupMigration: Migration = {
  async up(db: Kysely<any>) {
    await createTable(db, "volume_backup")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("project_id", sql.raw(name), (c) => c.notNull())
      .addColumn("user_id", sql.raw(name), (c) => c.notNull())
      .addColumn("volume_id", sql.raw(id), (c) => c.notNull())
      .addColumn("snapshot_id", sql.raw(id))
      .addColumn("parent_id", sql.raw(id))
      .addColumn("name", sql.raw(name))
      .addColumn("description", sql.raw(name))
      .addColumn("size", "integer", (c) => c.notNull())
      .addColumn("status", "varchar(32)", (c) => c.notNull())
      .addColumn("fail_reason", "text")
      .addColumn("availability_zone", sql.raw(name))
      .addColumn("host", sql.raw(name))
      .addColumn("service", "varchar(64)", (c) => c.notNull())
      .addColumn("container", sql.raw(name))
      .addColumn("object_count", "integer", (c) => c.notNull())
      .addColumn("is_incremental", "integer", (c) => c.notNull())
      .addColumn("volume_status", "varchar(32)")
      .addColumn("restore_volume_id", sql.raw(id))
      .addColumn("metadata", "text", (c) => c.notNull())
      .addColumn("volume_meta", "text")
      .addColumn("data_timestamp", sql.raw(time), (c) => c.notNull())
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time))
      .execute();
    await db.schema.createIndex("volume_backup_project").on("volume_backup").column("project_id").execute();
    await db.schema.createIndex("volume_backup_volume").on("volume_backup").column("volume_id").execute();
  },
};
