import { sql, type Kysely, type Migration } from "kysely";
import { createTable, withSerialId } from "../../shared/db/schema.js";

const time = "varchar(40)";

/**
 * Nova's API database tables for flavors (flavors, flavor_extra_specs, flavor_projects) and key pairs. Flavors
 * have an integer id for joins and the public flavorid; names and flavorids are unique, key pair names are unique
 * per user.
 */
export const initialMigration: Migration = {
  async up(db: Kysely<any>) {
    await withSerialId(db, createTable(db, "compute_flavor"))
      .addColumn("flavorid", "varchar(255)", (c) => c.notNull())
      .addColumn("name", "varchar(255)", (c) => c.notNull())
      .addColumn("memory_mb", "integer", (c) => c.notNull())
      .addColumn("vcpus", "integer", (c) => c.notNull())
      .addColumn("root_gb", "integer", (c) => c.notNull())
      .addColumn("ephemeral_gb", "integer", (c) => c.notNull())
      .addColumn("swap", "integer", (c) => c.notNull())
      .addColumn("rxtx_factor", "double precision", (c) => c.notNull())
      .addColumn("is_public", "integer", (c) => c.notNull())
      .addColumn("disabled", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("description", "text")
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time))
      .addUniqueConstraint("compute_flavor_flavorid_uq", ["flavorid"])
      .addUniqueConstraint("compute_flavor_name_uq", ["name"])
      .execute();

    await createTable(db, "compute_flavor_extra_spec")
      .addColumn("flavor_id", "integer", (c) => c.notNull())
      .addColumn("spec_key", "varchar(255)", (c) => c.notNull())
      .addColumn("value", "varchar(255)", (c) => c.notNull())
      .addPrimaryKeyConstraint("compute_flavor_extra_spec_pk", ["flavor_id", "spec_key"])
      .execute();

    await createTable(db, "compute_flavor_project")
      .addColumn("flavor_id", "integer", (c) => c.notNull())
      .addColumn("project_id", "varchar(255)", (c) => c.notNull())
      .addPrimaryKeyConstraint("compute_flavor_project_pk", ["flavor_id", "project_id"])
      .execute();
    await db.schema
      .createIndex("compute_flavor_project_project")
      .on("compute_flavor_project")
      .column("project_id")
      .execute();

    await withSerialId(db, createTable(db, "compute_keypair"))
      .addColumn("user_id", "varchar(255)", (c) => c.notNull())
      .addColumn("name", "varchar(255)", (c) => c.notNull())
      .addColumn("type", "varchar(10)", (c) => c.notNull())
      .addColumn("fingerprint", "varchar(255)", (c) => c.notNull())
      .addColumn("public_key", "text", (c) => c.notNull())
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addUniqueConstraint("compute_keypair_user_name_uq", ["user_id", "name"])
      .execute();
  },
  async down(db: Kysely<any>) {
    for (const t of [
      "compute_keypair",
      "compute_flavor_project",
      "compute_flavor_extra_spec",
      "compute_flavor",
    ])
      await db.schema.dropTable(t).execute();
  },
};
