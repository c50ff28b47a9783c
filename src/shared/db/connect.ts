import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import type BetterSqlite3 from "better-sqlite3";
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect, type SqliteDatabase } from "kysely";
import { WalSync } from "./wal-sync.js";

/** Which SQL engine a database URL selects. */
export type Engine = "sqlite" | "postgres" | "mysql";

/** An open database: the typed query builder plus what engine it talks to. */
export interface Database {
  engine: Engine;
  url: string;
  /** Untyped handle; each service narrows it to its own tables with `as Kysely<Tables>`. */
  kysely: Kysely<any>;
  /**
   * Resolves once every commit made before the call is on disk: at once on PostgreSQL and MySQL (whose commits
   * are durable) and in-memory SQLite; a shared fdatasync of the WAL on a SQLite file (commits at NORMAL are not).
   */
  durable(): Promise<void>;
  close(): Promise<void>;
}

/** Which engine a URL names; throws a clear error for anything else. */
export function engineOf(url: string): Engine {
  if (url.startsWith("sqlite:")) return "sqlite";
  if (/^postgres(ql)?:\/\//.test(url)) return "postgres";
  if (/^(mysql|mariadb):\/\//.test(url)) return "mysql";
  throw new Error(
    `Unsupported database URL "${url}": use sqlite:///path/to/file.db, postgresql://user@host/db or mysql://user@host/db`,
  );
}

/** A PostgreSQL int8 as a number when it is exactly representable, else the decimal string. */
function parseInt8(v: string): number | string {
  const n = Number(v);
  return Number.isSafeInteger(n) ? n : v;
}

/** Prepared statements kept per database (distinct SQL texts past this replace the oldest). */
const MAX_STATEMENTS = 2000;

/**
 * A better-sqlite3 database whose prepared statements are kept by SQL text: kysely prepares every query anew, and
 * preparing costs more than running a small query. A statement still iterating is never handed out twice.
 */
function cachingStatements(db: BetterSqlite3.Database): SqliteDatabase {
  const kept = new Map<string, BetterSqlite3.Statement>();
  return {
    close: () => db.close(),
    prepare: (sql) => {
      const hit = kept.get(sql);
      if (hit && !hit.busy) return hit;
      const stmt = db.prepare(sql);
      if (!hit) {
        if (kept.size >= MAX_STATEMENTS) kept.delete(kept.keys().next().value as string);
        kept.set(sql, stmt);
      }
      return stmt;
    },
  };
}

/** Open a database by URL: sqlite:///abs/path.db (WAL), sqlite::memory:, postgresql://..., mysql://... */
export async function openDatabase(url: string): Promise<Database> {
  const engine = engineOf(url);
  let kysely: Kysely<any>;
  let wal: WalSync | undefined;
  if (engine === "sqlite") {
    const { default: SQLite } = await import("better-sqlite3");
    const file = url === "sqlite::memory:" ? ":memory:" : url.replace(/^sqlite:\/\//, "");
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    const db = new SQLite(file);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    // Checkpoint every ~40 MB of WAL rather than 4 MB: pages rewritten by many commits in between (a container's
    // row, index nodes) are copied into the database once, and fewer commits stop for a checkpoint.
    db.pragma("wal_autocheckpoint = 10000");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 5000");
    kysely = new Kysely({ dialect: new SqliteDialect({ database: cachingStatements(db) }) });
    if (file !== ":memory:") wal = new WalSync(`${file}-wal`);
  } else if (engine === "postgres") {
    const { default: pg } = await import("pg");
    // bigint (int8: bigint columns, count(*), sum of integers) arrives as a string by default; give numbers like
    // SQLite and mysql2 do, keeping the string only past 2^53. Per pool, so other pg users keep pg's defaults.
    const types = {
      getTypeParser: ((oid: number, format?: "text" | "binary") =>
        oid === pg.types.builtins.INT8 && format !== "binary"
          ? parseInt8
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    };
    const pool = new pg.Pool({ connectionString: url, max: 10, types });
    // An idle client whose connection dies (server restart, admin termination) is dropped and replaced by the
    // pool; without a listener its 'error' event would crash the process.
    pool.on("error", () => {});
    kysely = new Kysely({ dialect: new PostgresDialect({ pool }) });
  } else {
    const mysql = await import("mysql2");
    const pool = mysql.createPool({
      uri: url.replace(/^mariadb:/, "mysql:"),
      connectionLimit: 10,
      timezone: "Z",
      supportBigNumbers: true,
    });
    kysely = new Kysely({ dialect: new MysqlDialect({ pool }) });
  }
  const durable = wal ? () => wal.sync() : () => Promise.resolve();
  return {
    engine,
    url,
    kysely,
    durable,
    close: async () => {
      await kysely.destroy();
      wal?.close();
    },
  };
}
