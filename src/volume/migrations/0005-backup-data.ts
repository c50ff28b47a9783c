import { sql, type Kysely, type Migration } from "kysely";

/**
 * Where a backup's objects are when that is not its own id and project (a record imported under a new id, into the
 * importing project, still finds the exported backup's objects, as Cinder's service_metadata does): the id they
 * were written under and the project whose account holds them.
 */
export const backupDataMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable("volume_backup").addColumn("data_id", sql.raw("varchar(36)")).execute();
    await db.schema.alterTable("volume_backup").addColumn("data_project", sql.raw("varchar(255)")).execute();
  },
};
