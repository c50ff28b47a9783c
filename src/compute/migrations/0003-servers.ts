import { sql, type Kysely, type Migration } from "kysely";
import { createTable, withSerialId } from "../../shared/db/schema.js";

const time = "varchar(40)";
const uuid = "varchar(36)";

async function index(db: Kysely<any>, table: string, name: string, columns: string[]) {
  await db.schema.createIndex(`${table}_${name}`).on(table).columns(columns).execute();
}

/**
 * Servers and everything around them: instances (with their flavor, request spec and system metadata as JSON),
 * metadata, tags, faults, instance actions and events, migrations, services (heartbeats), compute nodes
 * (hypervisors), host aggregates and server group members.
 */
export const serversMigration: Migration = {
  async up(db: Kysely<any>) {
    await withSerialId(db, createTable(db, "compute_instance"))
      .addColumn("uuid", uuid, (c) => c.notNull())
      .addColumn("display_name", "varchar(255)", (c) => c.notNull())
      .addColumn("hostname", "varchar(255)", (c) => c.notNull())
      .addColumn("description", "text")
      .addColumn("project_id", "varchar(255)", (c) => c.notNull())
      .addColumn("user_id", "varchar(255)", (c) => c.notNull())
      .addColumn("image_ref", "varchar(255)", (c) => c.notNull())
      /** The flavor as it was at boot (Nova embeds it too): JSON. */
      .addColumn("flavor", "text", (c) => c.notNull())
      /** Copies of flavor.vcpus / memory_mb, so quota usage is one SUM. */
      .addColumn("vcpus", "integer", (c) => c.notNull())
      .addColumn("memory_mb", "integer", (c) => c.notNull())
      .addColumn("key_name", "varchar(255)")
      .addColumn("key_data", "text")
      .addColumn("user_data", "text")
      .addColumn("config_drive", "varchar(255)", (c) => c.notNull().defaultTo(""))
      .addColumn("host", "varchar(255)")
      .addColumn("node", "varchar(255)")
      .addColumn("availability_zone", "varchar(255)")
      .addColumn("vm_state", "varchar(255)", (c) => c.notNull())
      .addColumn("task_state", "varchar(255)")
      .addColumn("power_state", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("locked", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("locked_by", "varchar(255)")
      .addColumn("locked_reason", "text")
      .addColumn("reservation_id", "varchar(255)", (c) => c.notNull())
      .addColumn("launch_index", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("access_ip_v4", "varchar(64)")
      .addColumn("access_ip_v6", "varchar(64)")
      .addColumn("progress", "integer", (c) => c.notNull().defaultTo(0))
      /** JSON: [{name}] security groups asked for. */
      .addColumn("security_groups", "text", (c) => c.notNull())
      /** JSON: {network name: [{addr, version, type, mac}]}. */
      .addColumn("addresses", "text", (c) => c.notNull())
      /** JSON: what scheduling needs again for moves (image properties, hints, group, requested AZ, networks). */
      .addColumn("request_spec", "text", (c) => c.notNull())
      /** JSON: bookkeeping (old flavor during a resize, the rescue image, the shelved snapshot...). */
      .addColumn("system_metadata", "text", (c) => c.notNull())
      .addColumn("launched_at", sql.raw(time))
      .addColumn("terminated_at", sql.raw(time))
      /** 0 while the server exists; its id once deleted (Nova's soft-delete convention). */
      .addColumn("deleted", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("deleted_at", sql.raw(time))
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time))
      .addUniqueConstraint("compute_instance_uuid_uq", ["uuid"])
      .execute();
    await index(db, "compute_instance", "project", ["project_id", "deleted"]);
    await index(db, "compute_instance", "host", ["host", "deleted"]);
    await index(db, "compute_instance", "created", ["created_at", "id"]);
    await index(db, "compute_instance", "reservation", ["reservation_id"]);

    await createTable(db, "compute_instance_metadata")
      .addColumn("instance_uuid", uuid, (c) => c.notNull())
      .addColumn("meta_key", "varchar(255)", (c) => c.notNull())
      .addColumn("value", "varchar(255)", (c) => c.notNull())
      .addPrimaryKeyConstraint("compute_instance_metadata_pk", ["instance_uuid", "meta_key"])
      .execute();
    await createTable(db, "compute_instance_tag")
      .addColumn("instance_uuid", uuid, (c) => c.notNull())
      .addColumn("tag", "varchar(80)", (c) => c.notNull())
      .addPrimaryKeyConstraint("compute_instance_tag_pk", ["instance_uuid", "tag"])
      .execute();
    await index(db, "compute_instance_tag", "tag", ["tag"]);

    await withSerialId(db, createTable(db, "compute_instance_fault"))
      .addColumn("instance_uuid", uuid, (c) => c.notNull())
      .addColumn("code", "integer", (c) => c.notNull())
      .addColumn("message", "text", (c) => c.notNull())
      .addColumn("details", "text")
      .addColumn("host", "varchar(255)")
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .execute();
    await index(db, "compute_instance_fault", "instance", ["instance_uuid"]);

    await withSerialId(db, createTable(db, "compute_instance_action"))
      .addColumn("action", "varchar(255)", (c) => c.notNull())
      .addColumn("instance_uuid", uuid, (c) => c.notNull())
      .addColumn("request_id", "varchar(255)", (c) => c.notNull())
      .addColumn("user_id", "varchar(255)")
      .addColumn("project_id", "varchar(255)")
      .addColumn("start_time", sql.raw(time), (c) => c.notNull())
      .addColumn("finish_time", sql.raw(time))
      .addColumn("message", "varchar(255)")
      .addColumn("updated_at", sql.raw(time))
      .execute();
    await index(db, "compute_instance_action", "instance", ["instance_uuid", "request_id"]);
    await withSerialId(db, createTable(db, "compute_instance_action_event"))
      .addColumn("action_id", "integer", (c) => c.notNull())
      .addColumn("event", "varchar(255)", (c) => c.notNull())
      .addColumn("start_time", sql.raw(time), (c) => c.notNull())
      .addColumn("finish_time", sql.raw(time))
      .addColumn("result", "varchar(255)")
      .addColumn("traceback", "text")
      .addColumn("host", "varchar(255)")
      .addColumn("details", "text")
      .execute();
    await index(db, "compute_instance_action_event", "action", ["action_id"]);

    await withSerialId(db, createTable(db, "compute_server_migration"))
      .addColumn("uuid", uuid, (c) => c.notNull())
      .addColumn("instance_uuid", uuid, (c) => c.notNull())
      .addColumn("source_compute", "varchar(255)")
      .addColumn("dest_compute", "varchar(255)")
      .addColumn("source_node", "varchar(255)")
      .addColumn("dest_node", "varchar(255)")
      .addColumn("dest_host", "varchar(255)")
      .addColumn("old_flavor_id", "varchar(255)")
      .addColumn("new_flavor_id", "varchar(255)")
      /** migrating, post-migrating, finished, confirmed, reverted, error, accepted, done, failed, ... */
      .addColumn("status", "varchar(255)", (c) => c.notNull())
      /** migration, resize, live-migration, evacuation. */
      .addColumn("migration_type", "varchar(32)", (c) => c.notNull())
      .addColumn("project_id", "varchar(255)")
      .addColumn("user_id", "varchar(255)")
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time))
      .addUniqueConstraint("compute_server_migration_uuid_uq", ["uuid"])
      .execute();
    await index(db, "compute_server_migration", "instance", ["instance_uuid"]);

    await withSerialId(db, createTable(db, "compute_service"))
      .addColumn("uuid", uuid, (c) => c.notNull())
      .addColumn("host", "varchar(255)", (c) => c.notNull())
      .addColumn("binary", "varchar(255)", (c) => c.notNull())
      .addColumn("topic", "varchar(255)")
      .addColumn("report_count", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("disabled", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("disabled_reason", "varchar(255)")
      .addColumn("forced_down", "integer", (c) => c.notNull().defaultTo(0))
      /** Heartbeat time as epoch milliseconds (compared numerically, engine independent). */
      .addColumn("last_seen_up_ms", "bigint")
      .addColumn("version", "integer", (c) => c.notNull().defaultTo(1))
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time))
      .addUniqueConstraint("compute_service_uuid_uq", ["uuid"])
      .addUniqueConstraint("compute_service_host_binary_uq", ["host", "binary"])
      .execute();

    await withSerialId(db, createTable(db, "compute_node"))
      .addColumn("uuid", uuid, (c) => c.notNull())
      .addColumn("host", "varchar(255)", (c) => c.notNull())
      .addColumn("hypervisor_hostname", "varchar(255)", (c) => c.notNull())
      .addColumn("hypervisor_type", "varchar(255)", (c) => c.notNull())
      .addColumn("hypervisor_version", "bigint", (c) => c.notNull())
      .addColumn("host_ip", "varchar(64)")
      .addColumn("vcpus", "integer", (c) => c.notNull())
      .addColumn("memory_mb", "integer", (c) => c.notNull())
      .addColumn("local_gb", "integer", (c) => c.notNull())
      .addColumn("vcpus_used", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("memory_mb_used", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("local_gb_used", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("running_vms", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("cpu_info", "text", (c) => c.notNull())
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time))
      .addUniqueConstraint("compute_node_uuid_uq", ["uuid"])
      .addUniqueConstraint("compute_node_hypervisor_hostname_uq", ["hypervisor_hostname"])
      .execute();

    await withSerialId(db, createTable(db, "compute_aggregate"))
      .addColumn("uuid", uuid, (c) => c.notNull())
      .addColumn("name", "varchar(255)", (c) => c.notNull())
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time))
      .addUniqueConstraint("compute_aggregate_uuid_uq", ["uuid"])
      .addUniqueConstraint("compute_aggregate_name_uq", ["name"])
      .execute();
    await createTable(db, "compute_aggregate_host")
      .addColumn("aggregate_id", "integer", (c) => c.notNull())
      .addColumn("host", "varchar(255)", (c) => c.notNull())
      .addPrimaryKeyConstraint("compute_aggregate_host_pk", ["aggregate_id", "host"])
      .execute();
    await createTable(db, "compute_aggregate_metadata")
      .addColumn("aggregate_id", "integer", (c) => c.notNull())
      .addColumn("meta_key", "varchar(255)", (c) => c.notNull())
      .addColumn("value", "varchar(255)", (c) => c.notNull())
      .addPrimaryKeyConstraint("compute_aggregate_metadata_pk", ["aggregate_id", "meta_key"])
      .execute();

    await createTable(db, "compute_server_group_member")
      .addColumn("group_uuid", uuid, (c) => c.notNull())
      .addColumn("instance_uuid", uuid, (c) => c.notNull())
      .addPrimaryKeyConstraint("compute_server_group_member_pk", ["group_uuid", "instance_uuid"])
      .execute();
    await index(db, "compute_server_group_member", "instance", ["instance_uuid"]);
  },
  async down(db: Kysely<any>) {
    for (const t of [
      "compute_server_group_member",
      "compute_aggregate_metadata",
      "compute_aggregate_host",
      "compute_aggregate",
      "compute_node",
      "compute_service",
      "compute_server_migration",
      "compute_instance_action_event",
      "compute_instance_action",
      "compute_instance_fault",
      "compute_instance_tag",
      "compute_instance_metadata",
      "compute_instance",
    ])
      await db.schema.dropTable(t).execute();
  },
};
