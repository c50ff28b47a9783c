import type { Kysely, Migration } from "kysely";
import { createTable } from "../../shared/db/schema.js";

/**
 * Block device mappings of volumes (Nova's block_device_mapping, the volume rows): one per volume a server has,
 * with its attachment in the block storage service and the connection info that attachment gave. The image-backed
 * root disk has no row (it stays the driver's local disk).
 */
export const blockDeviceMappingsMigration: Migration = {
  async up(db: Kysely<any>) {
    await createTable(db, "compute_block_device_mapping")
      .addColumn("uuid", "varchar(36)", (c) => c.primaryKey())
      .addColumn("instance_uuid", "varchar(36)", (c) => c.notNull())
      .addColumn("volume_id", "varchar(36)")
      .addColumn("attachment_id", "varchar(36)")
      .addColumn("device_name", "varchar(255)")
      .addColumn("boot_index", "integer")
      .addColumn("source_type", "varchar(32)", (c) => c.notNull())
      .addColumn("destination_type", "varchar(32)", (c) => c.notNull())
      .addColumn("delete_on_termination", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("tag", "varchar(255)")
      .addColumn("volume_size", "integer")
      .addColumn("image_id", "varchar(36)")
      .addColumn("connection_info", "text")
      .addColumn("created_at", "varchar(32)", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("compute_bdm_instance")
      .on("compute_block_device_mapping")
      .columns(["instance_uuid"])
      .execute();
    await db.schema
      .createIndex("compute_bdm_volume")
      .on("compute_block_device_mapping")
      .columns(["volume_id"])
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable("compute_block_device_mapping").execute();
  },
};
