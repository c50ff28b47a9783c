import { sql, type Kysely, type Migration } from "kysely";
import { createTable } from "../../shared/db/schema.js";

/**
 * Volume type encryption (Cinder's `encryption` table): at most one row per type, with the provider, cipher, key
 * size and control location an admin gave. Stratus has no key manager, so no volume is ever made of such a type.
 */
export const typeEncryptionMigration: Migration = {
  async up(db: Kysely<any>) {
    await createTable(db, "volume_type_encryption")
      .addColumn("volume_type_id", sql.raw("varchar(36)"), (c) => c.primaryKey())
      .addColumn("encryption_id", sql.raw("varchar(36)"), (c) => c.notNull().unique())
      .addColumn("provider", sql.raw("varchar(255)"), (c) => c.notNull())
      .addColumn("cipher", sql.raw("varchar(255)"))
      .addColumn("key_size", "integer")
      .addColumn("control_location", sql.raw("varchar(16)"), (c) => c.notNull())
      .addColumn("created_at", sql.raw("varchar(40)"), (c) => c.notNull())
      .addColumn("updated_at", sql.raw("varchar(40)"))
      .execute();
  },
};
