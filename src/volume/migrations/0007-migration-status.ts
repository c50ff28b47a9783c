import { sql, type Kysely, type Migration } from "kysely";

/** A volume's migration status (Cinder's `migration_status`: migrating, then success or error; null before any). */
export const migrationStatusMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable("volume_volume")
      .addColumn("migration_status", sql.raw("varchar(36)"))
      .execute();
  },
};
