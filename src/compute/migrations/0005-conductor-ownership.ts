import { MysqlAdapter, type Kysely, type Migration } from "kysely";
import { createTable } from "../../shared/db/schema.js";

/**
 * Conductor ownership of in-flight work: each conductor process registers itself with a heartbeat, and a server
 * whose build or move a conductor is driving names that conductor (task_owner), so that another conductor can
 * find and finish or undo the work of one that died.
 */
export const conductorOwnershipMigration: Migration = {
  async up(db: Kysely<any>) {
    await createTable(db, "compute_conductor")
      .addColumn("id", "varchar(36)", (c) => c.primaryKey())
      .addColumn("host", "varchar(255)", (c) => c.notNull())
      .addColumn("heartbeat_ms", "bigint", (c) => c.notNull())
      .addColumn("created_at", "varchar(40)", (c) => c.notNull())
      .execute();
    await db.schema.alterTable("compute_instance").addColumn("task_owner", "varchar(36)").execute();
    await db.schema
      .createIndex("compute_instance_task_owner")
      .on("compute_instance")
      .columns(["task_owner"])
      .execute();
  },
  async down(db: Kysely<any>) {
    const drop = db.schema.dropIndex("compute_instance_task_owner");
    const mysql = db.getExecutor().adapter instanceof MysqlAdapter;
    await (mysql ? drop.on("compute_instance") : drop).execute();
    await db.schema.alterTable("compute_instance").dropColumn("task_owner").execute();
    await db.schema.dropTable("compute_conductor").execute();
  },
};
