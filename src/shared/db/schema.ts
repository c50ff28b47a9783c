import { MysqlAdapter, PostgresAdapter, sql, type CreateTableBuilder, type Kysely } from "kysely";

/**
 * CREATE TABLE that behaves alike on every engine: on MySQL/MariaDB utf8mb4 with a binary collation, so names
 * compare exactly as on SQLite and PostgreSQL ("Admin" and "admin" are two names, unique constraints included).
 */
export function createTable(db: Kysely<any>, name: string): CreateTableBuilder<string, never> {
  const t = db.schema.createTable(name);
  return db.getExecutor().adapter instanceof MysqlAdapter
    ? t.modifyEnd(sql`character set utf8mb4 collate utf8mb4_bin`)
    : t;
}

/** An auto-incremented integer primary key "id": serial on PostgreSQL, AUTOINCREMENT / AUTO_INCREMENT elsewhere. */
export function withSerialId(
  db: Kysely<any>,
  t: CreateTableBuilder<string, never>,
): CreateTableBuilder<string, never> {
  return db.getExecutor().adapter instanceof PostgresAdapter
    ? t.addColumn("id", "serial", (c) => c.primaryKey())
    : t.addColumn("id", "integer", (c) => c.primaryKey().autoIncrement());
}

/** Insert one row into a table with a serial "id" and return that id, on every engine. */
export async function insertWithId(
  db: Kysely<any>,
  table: string,
  values: Record<string, unknown>,
): Promise<number> {
  if (db.getExecutor().adapter instanceof PostgresAdapter) {
    const r = (await db.insertInto(table).values(values).returning("id").executeTakeFirstOrThrow()) as {
      id: number;
    };
    return Number(r.id);
  }
  const r = await db.insertInto(table).values(values).executeTakeFirstOrThrow();
  return Number(r.insertId);
}
