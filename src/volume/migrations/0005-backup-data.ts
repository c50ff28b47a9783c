import { sql, type Kysely, type Migration } from "kysely";

/**
 * A backup's data id: the id its objects were written under, when that is not its own (a backup record imported
 * under a new id still finds the exported backup's objects, as Cinder's service_metadata does).
 */
export const backupDataMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable("volume_backup").addColumn("data_id", sql.raw("varchar(36)")).execute();
  },
};
