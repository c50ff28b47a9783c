import { sql, type Kysely, type Migration } from "kysely";
import { createTable } from "../../shared/db/schema.js";

const id = "varchar(64)";
const time = "varchar(40)";

/**
 * Images, their custom properties, tags, members and import tasks (Glance's images, image_properties,
 * image_tags, image_members and tasks tables). Deleted images keep their row (deleted = 1), as in Glance, so an
 * id is never reused; their properties, tags and members are removed.
 */
export const imagesMigration: Migration = {
  async up(db: Kysely<any>) {
    await createTable(db, "image_image")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("name", "varchar(255)")
      .addColumn("status", "varchar(30)", (c) => c.notNull())
      .addColumn("visibility", "varchar(20)", (c) => c.notNull())
      .addColumn("protected", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("os_hidden", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("checksum", "varchar(32)")
      .addColumn("os_hash_algo", "varchar(64)")
      .addColumn("os_hash_value", "varchar(128)")
      .addColumn("size", "bigint")
      .addColumn("virtual_size", "bigint")
      .addColumn("min_disk", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("min_ram", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("disk_format", "varchar(20)")
      .addColumn("container_format", "varchar(20)")
      .addColumn("owner", "varchar(255)")
      .addColumn("location", "text")
      .addColumn("store", "varchar(64)")
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time), (c) => c.notNull())
      .addColumn("deleted", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("deleted_at", sql.raw(time))
      .execute();
    await db.schema
      .createIndex("image_image_owner")
      .on("image_image")
      .columns(["owner", "deleted"])
      .execute();
    await db.schema
      .createIndex("image_image_list")
      .on("image_image")
      .columns(["deleted", "visibility", "created_at"])
      .execute();
    await createTable(db, "image_property")
      .addColumn("image_id", sql.raw(id), (c) => c.notNull())
      .addColumn("name", "varchar(255)", (c) => c.notNull())
      .addColumn("value", "text")
      .addPrimaryKeyConstraint("image_property_pk", ["image_id", "name"])
      .execute();
    await createTable(db, "image_tag")
      .addColumn("image_id", sql.raw(id), (c) => c.notNull())
      .addColumn("value", "varchar(255)", (c) => c.notNull())
      .addPrimaryKeyConstraint("image_tag_pk", ["image_id", "value"])
      .execute();
    await createTable(db, "image_member")
      .addColumn("image_id", sql.raw(id), (c) => c.notNull())
      .addColumn("member", "varchar(255)", (c) => c.notNull())
      .addColumn("status", "varchar(20)", (c) => c.notNull())
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time), (c) => c.notNull())
      .addPrimaryKeyConstraint("image_member_pk", ["image_id", "member"])
      .execute();
    await db.schema.createIndex("image_member_member").on("image_member").column("member").execute();
    await createTable(db, "image_task")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("image_id", sql.raw(id), (c) => c.notNull())
      .addColumn("type", "varchar(30)", (c) => c.notNull())
      .addColumn("status", "varchar(30)", (c) => c.notNull())
      .addColumn("owner", "varchar(255)")
      .addColumn("user_id", sql.raw(id))
      .addColumn("request_id", "varchar(64)")
      .addColumn("input", "text")
      .addColumn("result", "text")
      .addColumn("message", "text")
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time), (c) => c.notNull())
      .addColumn("expires_at", sql.raw(time))
      .execute();
    await db.schema.createIndex("image_task_image").on("image_task").column("image_id").execute();
  },
  async down() {
    throw new Error("downgrades are not supported");
  },
};
