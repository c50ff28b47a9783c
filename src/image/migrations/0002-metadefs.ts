import { sql, type Kysely, type Migration } from "kysely";
import { createTable } from "../../shared/db/schema.js";

const id = "varchar(64)";
const name = "varchar(80)";
const time = "varchar(40)";

/**
 * The Metadata Definitions catalog (Glance's metadef_* tables). Children refer to their namespace by its
 * internal id, so renaming a namespace touches one row; deletes cascade in code, inside a transaction.
 */
export const metadefsMigration: Migration = {
  async up(db: Kysely<any>) {
    await createTable(db, "image_metadef_namespace")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("namespace", sql.raw(name), (c) => c.notNull())
      .addColumn("display_name", sql.raw(name))
      .addColumn("description", "text")
      .addColumn("visibility", "varchar(32)", (c) => c.notNull())
      .addColumn("protected", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("owner", "varchar(255)", (c) => c.notNull())
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time))
      .addUniqueConstraint("image_metadef_namespace_uq", ["namespace"])
      .execute();
    await db.schema
      .createIndex("image_metadef_namespace_owner")
      .on("image_metadef_namespace")
      .column("owner")
      .execute();
    for (const [table, extra] of [
      ["image_metadef_object", true],
      ["image_metadef_property", false],
      ["image_metadef_tag", false],
    ] as const) {
      let t = createTable(db, table)
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("namespace_id", sql.raw(id), (c) => c.notNull())
        .addColumn("name", sql.raw(name), (c) => c.notNull());
      if (extra) t = t.addColumn("description", "text").addColumn("required", "text");
      if (table !== "image_metadef_tag") t = t.addColumn("json_schema", "text", (c) => c.notNull());
      await t
        .addColumn("created_at", sql.raw(time), (c) => c.notNull())
        .addColumn("updated_at", sql.raw(time))
        .addUniqueConstraint(`${table}_uq`, ["namespace_id", "name"])
        .execute();
    }
    await createTable(db, "image_metadef_resource_type")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("name", sql.raw(name), (c) => c.notNull())
      .addColumn("protected", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time))
      .addUniqueConstraint("image_metadef_resource_type_uq", ["name"])
      .execute();
    await createTable(db, "image_metadef_ns_resource_type")
      .addColumn("namespace_id", sql.raw(id), (c) => c.notNull())
      .addColumn("resource_type_id", sql.raw(id), (c) => c.notNull())
      .addColumn("prefix", sql.raw(name))
      .addColumn("properties_target", sql.raw(name))
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time))
      .addPrimaryKeyConstraint("image_metadef_ns_resource_type_pk", ["namespace_id", "resource_type_id"])
      .execute();
    await db.schema
      .createIndex("image_metadef_ns_resource_type_rt")
      .on("image_metadef_ns_resource_type")
      .column("resource_type_id")
      .execute();
    // Which default-catalog namespaces were ever seeded: one an operator deleted is not brought back.
    await createTable(db, "image_metadef_seeded")
      .addColumn("namespace", sql.raw(name), (c) => c.primaryKey())
      .addColumn("seeded_at", sql.raw(time), (c) => c.notNull())
      .execute();
  },
  async down() {
    throw new Error("downgrades are not supported");
  },
};
