import { MysqlAdapter, PostgresAdapter, sql, type Kysely, type Migration } from "kysely";
import { createTable, withSerialId } from "../../shared/db/schema.js";

const ts = "varchar(20)";

/**
 * An object name column that sorts by UTF-8 bytes, as Swift lists: SQLite's default collation does; PostgreSQL gets
 * COLLATE "C"; MySQL/MariaDB a varbinary (1024 bytes of utf8mb4 would exceed InnoDB's 3072-byte key limit).
 */
export function nameType(db: Kysely<any>, chars: number) {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) return sql.raw(`varchar(${chars}) collate "C"`);
  if (adapter instanceof MysqlAdapter) return sql.raw(`varbinary(${chars})`);
  return sql.raw(`varchar(${chars})`);
}

/**
 * Accounts (metadata only: an account exists as soon as it is used, as with Swift's account_autocreate),
 * containers with their object count and bytes (kept in the same transaction as every object write), and objects
 * with their metadata and the store key of their data. Timestamps are Swift's ("1765050291.12345").
 */
export const objectMigration: Migration = {
  async up(db: Kysely<any>) {
    await createTable(db, "object_account")
      .addColumn("account", "varchar(256)", (c) => c.primaryKey())
      .addColumn("created_at", sql.raw(ts), (c) => c.notNull())
      .addColumn("put_timestamp", sql.raw(ts), (c) => c.notNull())
      .addColumn("meta", "text", (c) => c.notNull())
      .execute();
    await withSerialId(db, createTable(db, "object_container"))
      .addColumn("account", "varchar(256)", (c) => c.notNull())
      .addColumn("name", nameType(db, 256), (c) => c.notNull())
      .addColumn("object_count", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("bytes_used", "bigint", (c) => c.notNull().defaultTo(0))
      .addColumn("created_at", sql.raw(ts), (c) => c.notNull())
      .addColumn("put_timestamp", sql.raw(ts), (c) => c.notNull())
      .addColumn("meta", "text", (c) => c.notNull())
      .addUniqueConstraint("object_container_name", ["account", "name"])
      .execute();
    await createTable(db, "object_object")
      .addColumn("container_id", "integer", (c) =>
        c.notNull().references("object_container.id").onDelete("cascade"),
      )
      .addColumn("name", nameType(db, 1024), (c) => c.notNull())
      .addColumn("size", "bigint", (c) => c.notNull())
      .addColumn("etag", "varchar(64)", (c) => c.notNull())
      .addColumn("content_type", "varchar(256)", (c) => c.notNull())
      .addColumn("timestamp", sql.raw(ts), (c) => c.notNull())
      .addColumn("meta", "text", (c) => c.notNull())
      .addColumn("delete_at", "bigint")
      .addColumn("data_key", "varchar(64)", (c) => c.notNull())
      .addPrimaryKeyConstraint("object_object_pk", ["container_id", "name"])
      .execute();
    await db.schema.createIndex("object_object_delete_at").on("object_object").column("delete_at").execute();
    // Data whose row is gone (replaced, deleted, expired) is removed after the commit; a crash in between leaves
    // its key here, and the reaper removes it later.
    await createTable(db, "object_garbage")
      .addColumn("data_key", "varchar(64)", (c) => c.primaryKey())
      .addColumn("since", sql.raw(ts), (c) => c.notNull())
      .execute();
  },
};
