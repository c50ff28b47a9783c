// Quota check + insert made atomic in the database, across every process that shares it (see withQuotaLock).
import { SqliteAdapter, sql, type Kysely, type Migration } from "kysely";
import { KeyedLock } from "../keyed-lock.js";
import { createTable } from "./schema.js";
import { isUniqueViolation } from "./types.js";

/**
 * The migration creating a service's quota lock table (`<service>_quota_lock`): one row per (scope, project),
 * created on first use, whose only job is to be locked by withQuotaLock.
 */
export function quotaLockMigration(table: string): Migration {
  return {
    async up(db: Kysely<any>) {
      await createTable(db, table)
        .addColumn("scope", "varchar(64)", (c) => c.notNull())
        .addColumn("project_id", "varchar(255)", (c) => c.notNull())
        .addColumn("generation", "integer", (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint(`${table}_pk`, ["scope", "project_id"])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable(table).execute();
    },
  };
}

const queues = new WeakMap<Kysely<any>, KeyedLock>();

/**
 * Run `fn` (count usage, compare with the limit, insert the new rows, all through the `trx` it is given) while
 * holding the database lock of (scope, project) in `table`, so that no other request of any process sharing the
 * database can count or insert for that project until this one has committed or rolled back.
 *
 * How: the transaction's first statement UPDATEs the project's lock row. On PostgreSQL and MariaDB/MySQL that takes
 * the row's exclusive lock (held until commit; READ COMMITTED, so the counts read after it see what the previous
 * holder committed); on SQLite it makes the transaction the database's one writer (other connections and processes
 * wait on busy_timeout, as with BEGIN IMMEDIATE). Throwing from `fn` (a quota error) rolls everything back.
 * Requests of one process queue in memory first, so waiting requests do not each hold a pooled connection.
 *
 * For a new service (network, volume, object): add `quotaLockMigration("<service>_quota_lock")` to its
 * migrations, and wrap each quota check with the insert (or status change) it guards in
 * `withQuotaLock(db, "<service>_quota_lock", "<resource family>", project, async (trx) => ...)`. Use `trx` for every
 * query inside: on SQLite another handle would wait for this transaction's connection.
 */
export async function withQuotaLock<T>(
  db: Kysely<any>,
  table: string,
  scope: string,
  project: string,
  fn: (trx: Kysely<any>) => Promise<T>,
): Promise<T> {
  let queue = queues.get(db);
  if (!queue) queues.set(db, (queue = new KeyedLock()));
  return queue.run(`${table}\0${scope}\0${project}`, async () => {
    const locked = (trx: Kysely<any>) =>
      trx
        .updateTable(table)
        .set((eb) => ({ generation: eb("generation", "+", 1) }))
        .where("scope", "=", scope)
        .where("project_id", "=", project)
        .execute();
    if (db.getExecutor().adapter instanceof SqliteAdapter)
      // The first write takes SQLite's one write lock: creating the row inside the transaction is safe there.
      return sqliteLocked(
        db,
        async (trx) => {
          await trx
            .insertInto(table)
            .values({ scope, project_id: project, generation: 0 })
            .onConflict((oc) => oc.doNothing())
            .execute();
          await locked(trx);
        },
        fn,
      );
    await ensureLockRow(db, table, scope, project);
    return db
      .transaction()
      .setIsolationLevel("read committed")
      .execute(async (trx) => {
        await locked(trx);
        return fn(trx);
      });
  });
}

const SQLITE_WAIT_MS = 60_000;

/**
 * SQLite: better-sqlite3 waits for another connection's write lock synchronously (busy_timeout), which would stop
 * this process's event loop, and with it a holder in the same process. So take the write lock with busy_timeout 0
 * and retry asynchronously (up to a minute) while another connection holds it.
 */
async function sqliteLocked<T>(
  db: Kysely<any>,
  lock: (trx: Kysely<any>) => Promise<unknown>,
  fn: (trx: Kysely<any>) => Promise<T>,
): Promise<T> {
  return db.connection().execute(async (conn) => {
    const prev = (await sql<{ timeout: number }>`pragma busy_timeout`.execute(conn)).rows[0]?.timeout ?? 5000;
    await sql`pragma busy_timeout = 0`.execute(conn);
    try {
      const end = Date.now() + SQLITE_WAIT_MS;
      for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
        let held = false;
        try {
          return await conn.transaction().execute(async (trx) => {
            await lock(trx);
            held = true;
            await sql`pragma busy_timeout = ${sql.raw(String(Number(prev)))}`.execute(trx);
            return fn(trx);
          });
        } catch (e) {
          if (held || (e as { code?: string }).code !== "SQLITE_BUSY" || Date.now() > end) throw e;
        }
        await new Promise((r) => setTimeout(r, wait));
      }
    } finally {
      await sql`pragma busy_timeout = ${sql.raw(String(Number(prev)))}`.execute(conn);
    }
  });
}

/** Create the lock row outside any transaction (so that no engine holds a shared lock that could deadlock). */
async function ensureLockRow(db: Kysely<any>, table: string, scope: string, project: string): Promise<void> {
  const row = await db
    .selectFrom(table)
    .select("generation")
    .where("scope", "=", scope)
    .where("project_id", "=", project)
    .executeTakeFirst();
  if (row) return;
  try {
    await db.insertInto(table).values({ scope, project_id: project, generation: 0 }).execute();
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
  }
}
