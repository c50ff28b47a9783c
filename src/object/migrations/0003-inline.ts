import { MysqlAdapter, PostgresAdapter, sql, type Kysely, type Migration } from "kysely";
import { createTable } from "../../shared/db/schema.js";

/** A binary column for up to 64 KiB and more: bytea, mediumblob (MySQL's blob stops one byte short), blob. */
function bytesType(db: Kysely<any>) {
  const adapter = db.getExecutor().adapter;
  if (adapter instanceof PostgresAdapter) return sql.raw("bytea");
  if (adapter instanceof MysqlAdapter) return sql.raw("mediumblob");
  return sql.raw("blob");
}

/**
 * Small objects' data kept in the database (object.inlineMaxBytes), under data keys of their own, written in the
 * same transaction as the object's row: one durable commit instead of a file's create, write, sync and rename.
 */
export const inlineMigration: Migration = {
  async up(db: Kysely<any>) {
    await createTable(db, "object_inline")
      .addColumn("data_key", "varchar(64)", (c) => c.primaryKey())
      .addColumn("data", bytesType(db), (c) => c.notNull())
      .execute();
  },
};
