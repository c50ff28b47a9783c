import { sql, type Kysely, type Migration } from "kysely";
import { createTable } from "../../shared/db/schema.js";

const id = "varchar(36)";
const time = "varchar(40)";
const name = "varchar(255)";

/**
 * L3 tables: routers (gateway port and SNAT on the row, static routes as JSON text; interfaces are the ports whose
 * device_id is the router), floating IPs (one per external port; an association is unique per fixed port and
 * address) and their port forwardings (an external port/protocol once per floating IP, an internal one once).
 */
export const l3Migration: Migration = {
  async up(db: Kysely<any>) {
    await createTable(db, "network_router")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("project_id", sql.raw(name), (c) => c.notNull())
      .addColumn("name", sql.raw(name), (c) => c.notNull())
      .addColumn("description", sql.raw(name), (c) => c.notNull())
      .addColumn("admin_state_up", "integer", (c) => c.notNull())
      .addColumn("status", "varchar(16)", (c) => c.notNull())
      .addColumn("gw_port_id", sql.raw(id))
      .addColumn("enable_snat", "integer", (c) => c.notNull())
      .addColumn("routes", "text", (c) => c.notNull())
      .addColumn("availability_zone_hints", "text", (c) => c.notNull())
      .addColumn("revision_number", "integer", (c) => c.notNull().defaultTo(1))
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time), (c) => c.notNull())
      .execute();
    await db.schema.createIndex("network_router_project").on("network_router").column("project_id").execute();

    await createTable(db, "network_floatingip")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("project_id", sql.raw(name), (c) => c.notNull())
      .addColumn("description", sql.raw(name), (c) => c.notNull())
      .addColumn("floating_network_id", sql.raw(id), (c) => c.notNull())
      .addColumn("floating_port_id", sql.raw(id), (c) => c.notNull())
      .addColumn("floating_ip_address", "varchar(64)", (c) => c.notNull())
      .addColumn("fixed_port_id", sql.raw(id))
      .addColumn("fixed_ip_address", "varchar(64)")
      .addColumn("router_id", sql.raw(id))
      .addColumn("status", "varchar(16)", (c) => c.notNull())
      .addColumn("revision_number", "integer", (c) => c.notNull().defaultTo(1))
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time), (c) => c.notNull())
      .addUniqueConstraint("network_floatingip_assoc", [
        "floating_network_id",
        "fixed_port_id",
        "fixed_ip_address",
      ])
      .execute();
    await db.schema
      .createIndex("network_floatingip_project")
      .on("network_floatingip")
      .column("project_id")
      .execute();

    await createTable(db, "network_port_forwarding")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("floatingip_id", sql.raw(id), (c) => c.notNull())
      .addColumn("internal_port_id", sql.raw(id), (c) => c.notNull())
      .addColumn("internal_ip_address", "varchar(64)", (c) => c.notNull())
      .addColumn("internal_port", "integer", (c) => c.notNull())
      .addColumn("external_port", "integer", (c) => c.notNull())
      .addColumn("protocol", "varchar(8)", (c) => c.notNull())
      .addColumn("description", sql.raw(name), (c) => c.notNull())
      .addUniqueConstraint("network_pf_external", ["floatingip_id", "external_port", "protocol"])
      .addUniqueConstraint("network_pf_internal", [
        "internal_port_id",
        "internal_ip_address",
        "internal_port",
        "protocol",
      ])
      .execute();
  },
  async down(db: Kysely<any>) {
    for (const t of ["network_port_forwarding", "network_floatingip", "network_router"])
      await db.schema.dropTable(t).execute();
  },
};
