import { sql, type Kysely, type Migration } from "kysely";
import { createTable } from "../../shared/db/schema.js";

const id = "varchar(36)";
const time = "varchar(40)";
const name = "varchar(255)";

/**
 * The block storage tables (Cinder's volumes, snapshots, types with their extra specs and access lists, QoS specs,
 * quotas and quota classes, attachments, the agents' exports, user messages and the agents as services). Maps
 * (metadata, extra specs, QoS specs, connectors, connection info, export state) are JSON text.
 */
export const volumeMigration: Migration = {
  async up(db: Kysely<any>) {
    await createTable(db, "volume_volume")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("project_id", sql.raw(name), (c) => c.notNull())
      .addColumn("user_id", sql.raw(name), (c) => c.notNull())
      .addColumn("name", sql.raw(name))
      .addColumn("description", sql.raw(name))
      .addColumn("size", "integer", (c) => c.notNull())
      .addColumn("status", "varchar(32)", (c) => c.notNull())
      .addColumn("attach_status", "varchar(32)", (c) => c.notNull())
      .addColumn("availability_zone", sql.raw(name), (c) => c.notNull())
      .addColumn("volume_type_id", sql.raw(id))
      .addColumn("snapshot_id", sql.raw(id))
      .addColumn("source_volid", sql.raw(id))
      .addColumn("image_id", sql.raw(id))
      .addColumn("bootable", "integer", (c) => c.notNull())
      .addColumn("readonly", "integer", (c) => c.notNull())
      .addColumn("multiattach", "integer", (c) => c.notNull())
      .addColumn("metadata", "text", (c) => c.notNull())
      .addColumn("image_metadata", "text", (c) => c.notNull())
      .addColumn("host", sql.raw(name))
      .addColumn("location", "text")
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time))
      .execute();
    await db.schema.createIndex("volume_volume_project").on("volume_volume").column("project_id").execute();
    await createTable(db, "volume_snapshot")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("project_id", sql.raw(name), (c) => c.notNull())
      .addColumn("user_id", sql.raw(name), (c) => c.notNull())
      .addColumn("volume_id", sql.raw(id), (c) => c.notNull())
      .addColumn("name", sql.raw(name))
      .addColumn("description", sql.raw(name))
      .addColumn("size", "integer", (c) => c.notNull())
      .addColumn("status", "varchar(32)", (c) => c.notNull())
      .addColumn("progress", "varchar(16)", (c) => c.notNull())
      .addColumn("metadata", "text", (c) => c.notNull())
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time))
      .execute();
    await db.schema.createIndex("volume_snapshot_volume").on("volume_snapshot").column("volume_id").execute();
    await createTable(db, "volume_type")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("name", sql.raw(name), (c) => c.notNull().unique())
      .addColumn("description", sql.raw(name))
      .addColumn("is_public", "integer", (c) => c.notNull())
      .addColumn("extra_specs", "text", (c) => c.notNull())
      .addColumn("qos_specs_id", sql.raw(id))
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .execute();
    await createTable(db, "volume_type_access")
      .addColumn("volume_type_id", sql.raw(id), (c) => c.notNull())
      .addColumn("project_id", sql.raw(name), (c) => c.notNull())
      .addPrimaryKeyConstraint("volume_type_access_pk", ["volume_type_id", "project_id"])
      .execute();
    await createTable(db, "volume_qos")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("name", sql.raw(name), (c) => c.notNull().unique())
      .addColumn("consumer", "varchar(16)", (c) => c.notNull())
      .addColumn("specs", "text", (c) => c.notNull())
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .execute();
    await createTable(db, "volume_quota")
      .addColumn("scope", "varchar(16)", (c) => c.notNull())
      .addColumn("owner", sql.raw(name), (c) => c.notNull())
      .addColumn("resource", "varchar(64)", (c) => c.notNull())
      .addColumn("hard_limit", "integer", (c) => c.notNull())
      .addPrimaryKeyConstraint("volume_quota_pk", ["scope", "owner", "resource"])
      .execute();
    await createTable(db, "volume_attachment")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("volume_id", sql.raw(id), (c) => c.notNull())
      .addColumn("project_id", sql.raw(name), (c) => c.notNull())
      .addColumn("instance_uuid", sql.raw(name))
      .addColumn("attached_host", sql.raw(name))
      .addColumn("mountpoint", sql.raw(name))
      .addColumn("attach_mode", "varchar(8)", (c) => c.notNull())
      .addColumn("attach_status", "varchar(32)", (c) => c.notNull())
      .addColumn("connector", "text")
      .addColumn("connection_info", "text")
      .addColumn("attach_time", sql.raw(time))
      .addColumn("detach_time", sql.raw(time))
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("volume_attachment_volume")
      .on("volume_attachment")
      .column("volume_id")
      .execute();
    await createTable(db, "volume_export")
      .addColumn("volume_id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("host", sql.raw(name), (c) => c.notNull())
      .addColumn("protocol", "varchar(16)", (c) => c.notNull())
      .addColumn("record", "text", (c) => c.notNull())
      .execute();
    await createTable(db, "volume_message")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("project_id", sql.raw(name), (c) => c.notNull())
      .addColumn("request_id", sql.raw(name), (c) => c.notNull())
      .addColumn("resource_type", "varchar(32)", (c) => c.notNull())
      .addColumn("resource_uuid", sql.raw(id))
      .addColumn("event_id", "varchar(32)", (c) => c.notNull())
      .addColumn("message_level", "varchar(16)", (c) => c.notNull())
      .addColumn("user_message", "text", (c) => c.notNull())
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("guaranteed_until", sql.raw(time), (c) => c.notNull())
      .execute();
    await createTable(db, "volume_service")
      .addColumn("host", sql.raw(name), (c) => c.notNull())
      .addColumn("binary", "varchar(64)", (c) => c.notNull())
      .addColumn("zone", sql.raw(name), (c) => c.notNull())
      .addColumn("disabled", "integer", (c) => c.notNull())
      .addColumn("disabled_reason", sql.raw(name))
      .addColumn("stats", "text", (c) => c.notNull())
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time), (c) => c.notNull())
      .addPrimaryKeyConstraint("volume_service_pk", ["host", "binary"])
      .execute();
  },
};
