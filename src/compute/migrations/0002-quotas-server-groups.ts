import { PostgresAdapter, sql, type Kysely, type Migration } from "kysely";
import { createTable } from "../../shared/db/schema.js";

const time = "varchar(40)";

/**
 * Nova's quotas (per-project limits), quota_classes (the "default" class overrides the configured defaults)
 * and instance_groups (server groups, with one policy and its rules as JSON).
 */
export const quotasServerGroupsMigration: Migration = {
  async up(db: Kysely<any>) {
    await createTable(db, "compute_quota")
      .addColumn("project_id", "varchar(255)", (c) => c.notNull())
      .addColumn("resource", "varchar(255)", (c) => c.notNull())
      .addColumn("hard_limit", "integer", (c) => c.notNull())
      .addPrimaryKeyConstraint("compute_quota_pk", ["project_id", "resource"])
      .execute();
    await createTable(db, "compute_quota_class")
      .addColumn("class_name", "varchar(255)", (c) => c.notNull())
      .addColumn("resource", "varchar(255)", (c) => c.notNull())
      .addColumn("hard_limit", "integer", (c) => c.notNull())
      .addPrimaryKeyConstraint("compute_quota_class_pk", ["class_name", "resource"])
      .execute();
    const sg = createTable(db, "compute_server_group");
    await (
      db.getExecutor().adapter instanceof PostgresAdapter
        ? sg.addColumn("id", "serial", (c) => c.primaryKey())
        : sg.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement())
    )
      .addColumn("uuid", "varchar(36)", (c) => c.notNull())
      .addColumn("name", "varchar(255)", (c) => c.notNull())
      .addColumn("project_id", "varchar(255)", (c) => c.notNull())
      .addColumn("user_id", "varchar(255)", (c) => c.notNull())
      .addColumn("policy", "varchar(255)", (c) => c.notNull())
      .addColumn("rules", "text", (c) => c.notNull())
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addUniqueConstraint("compute_server_group_uuid_uq", ["uuid"])
      .execute();
    await db.schema
      .createIndex("compute_server_group_project")
      .on("compute_server_group")
      .column("project_id")
      .execute();
  },
  async down(db: Kysely<any>) {
    for (const t of ["compute_server_group", "compute_quota_class", "compute_quota"])
      await db.schema.dropTable(t).execute();
  },
};
