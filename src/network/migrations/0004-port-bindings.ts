import { sql, type Kysely, type Migration } from "kysely";
import { createTable } from "../../shared/db/schema.js";

/**
 * A port's inactive bindings (Neutron's binding-extended: one per host, made for a live migration's destination
 * before it is activated); the active binding stays on the port's row (binding_host_id and the rest).
 */
export const portBindingsMigration: Migration = {
  async up(db: Kysely<any>) {
    await createTable(db, "network_port_binding")
      .addColumn("port_id", sql.raw("varchar(36)"), (c) => c.notNull())
      .addColumn("host", sql.raw("varchar(255)"), (c) => c.notNull())
      .addColumn("vnic_type", "varchar(64)", (c) => c.notNull())
      .addColumn("profile", "text", (c) => c.notNull())
      .addColumn("vif_type", "varchar(64)", (c) => c.notNull())
      .addColumn("vif_details", "text", (c) => c.notNull())
      .addPrimaryKeyConstraint("network_port_binding_pk", ["port_id", "host"])
      .execute();
    await db.schema
      .createIndex("network_port_binding_host")
      .on("network_port_binding")
      .column("host")
      .execute();
  },
  async down() {
    throw new Error("downgrades are not supported");
  },
};
