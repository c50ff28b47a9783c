import { sql, type Kysely, type Migration } from "kysely";
import { createTable, withSerialId } from "../../shared/db/schema.js";
import { nameType } from "./0001-object.js";

/**
 * Container sync: a row per syncing container (its sync point: the last change pushed, and the lease of the process
 * pushing it), the changes (object puts, posts and deletes) of syncing containers in the order they happened, and
 * their deletions' timestamps.
 */
export const containerSyncMigration: Migration = {
  async up(db: Kysely<any>) {
    await createTable(db, "object_sync")
      .addColumn("container_id", "integer", (c) =>
        c.primaryKey().references("object_container.id").onDelete("cascade"),
      )
      .addColumn("point", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("owner", "varchar(64)", (c) => c.notNull().defaultTo(""))
      .addColumn("lease_until", "bigint", (c) => c.notNull().defaultTo(0))
      .execute();
    await withSerialId(db, createTable(db, "object_sync_change"))
      .addColumn("container_id", "integer", (c) =>
        c.notNull().references("object_container.id").onDelete("cascade"),
      )
      .addColumn("name", nameType(db, 1024), (c) => c.notNull())
      .addColumn("timestamp", sql.raw("varchar(20)"), (c) => c.notNull())
      .addColumn("deleted", "integer", (c) => c.notNull())
      .execute();
    // What a syncing container deleted, and when: a push of an older version (another container's sync echoing
    // back what it got from here) must not bring it back (Swift's tombstones); reaped after a week.
    await createTable(db, "object_tombstone")
      .addColumn("container_id", "integer", (c) =>
        c.notNull().references("object_container.id").onDelete("cascade"),
      )
      .addColumn("name", nameType(db, 1024), (c) => c.notNull())
      .addColumn("timestamp", sql.raw("varchar(20)"), (c) => c.notNull())
      .addPrimaryKeyConstraint("object_tombstone_pk", ["container_id", "name"])
      .execute();
    await db.schema
      .createIndex("object_tombstone_timestamp")
      .on("object_tombstone")
      .column("timestamp")
      .execute();
    await db.schema
      .createIndex("object_sync_change_container")
      .on("object_sync_change")
      .columns(["container_id", "id"])
      .execute();
  },
};
