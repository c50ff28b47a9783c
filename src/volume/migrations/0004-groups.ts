import { sql, type Kysely, type Migration } from "kysely";
import { createTable } from "../../shared/db/schema.js";

const id = "varchar(36)";
const time = "varchar(40)";
const name = "varchar(255)";

/**
 * Generic volume groups (Cinder 3.11+): group types with their group specs, groups (their volume types as a JSON
 * list), group snapshots, and the volumes' and snapshots' links to them.
 */
export const groupMigration: Migration = {
  async up(db: Kysely<any>) {
    await createTable(db, "volume_group_type")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("name", sql.raw(name), (c) => c.notNull().unique())
      .addColumn("description", sql.raw(name))
      .addColumn("is_public", "integer", (c) => c.notNull())
      .addColumn("group_specs", "text", (c) => c.notNull())
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .execute();
    await createTable(db, "volume_group")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("project_id", sql.raw(name), (c) => c.notNull())
      .addColumn("user_id", sql.raw(name), (c) => c.notNull())
      .addColumn("name", sql.raw(name))
      .addColumn("description", sql.raw(name))
      .addColumn("status", "varchar(32)", (c) => c.notNull())
      .addColumn("availability_zone", sql.raw(name), (c) => c.notNull())
      .addColumn("group_type_id", sql.raw(id), (c) => c.notNull())
      .addColumn("volume_type_ids", "text", (c) => c.notNull())
      .addColumn("group_snapshot_id", sql.raw(id))
      .addColumn("source_group_id", sql.raw(id))
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time))
      .execute();
    await db.schema.createIndex("volume_group_project").on("volume_group").column("project_id").execute();
    await createTable(db, "volume_group_snapshot")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("project_id", sql.raw(name), (c) => c.notNull())
      .addColumn("user_id", sql.raw(name), (c) => c.notNull())
      .addColumn("group_id", sql.raw(id), (c) => c.notNull())
      .addColumn("group_type_id", sql.raw(id), (c) => c.notNull())
      .addColumn("name", sql.raw(name))
      .addColumn("description", sql.raw(name))
      .addColumn("status", "varchar(32)", (c) => c.notNull())
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time))
      .execute();
    await db.schema.alterTable("volume_volume").addColumn("group_id", sql.raw(id)).execute();
    await db.schema.alterTable("volume_snapshot").addColumn("group_snapshot_id", sql.raw(id)).execute();
  },
};
