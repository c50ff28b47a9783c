import type { Kysely, Migration } from "kysely";

/** Block device mappings made from a volume snapshot (source_type snapshot) name it: Nova's snapshot_id. */
export const bdmSnapshotMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema
      .alterTable("compute_block_device_mapping")
      .addColumn("snapshot_id", "varchar(36)")
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable("compute_block_device_mapping").dropColumn("snapshot_id").execute();
  },
};
