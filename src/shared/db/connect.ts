import { mkdirSync } from "node:fs";
import { dirname } from "node:path";
import { Kysely, MysqlDialect, PostgresDialect, SqliteDialect } from "kysely";

/** Which SQL engine a database URL selects. */
export type Engine = "sqlite" | "postgres" | "mysql";

/** An open database: the typed query builder plus what engine it talks to. */
export interface Database {
  engine: Engine;
  url: string;
  /** Untyped handle; each service narrows it to its own tables with `as Kysely<Tables>`. */
  kysely: Kysely<any>;
  close(): Promise<void>;
}

/** Which engine a URL names; throws a clear error for anything else. */
export function engineOf(url: string): Engine {
  if (url.startsWith("sqlite:")) return "sqlite";
  if (/^postgres(ql)?:\/\//.test(url)) return "postgres";
  if (/^(mysql|mariadb):\/\//.test(url)) return "mysql";
  throw new Error(`Unsupported database URL "${url}": use sqlite:///path/to/file.db, postgresql://user@host/db or mysql://user@host/db`);
}

/** Open a database by URL: sqlite:///abs/path.db (WAL), sqlite::memory:, postgresql://..., mysql://... */
export async function openDatabase(url: string): Promise<Database> {
  const engine = engineOf(url);
  let kysely: Kysely<any>;
  if (engine === "sqlite") {
    const { default: SQLite } = await import("better-sqlite3");
    const file = url === "sqlite::memory:" ? ":memory:" : url.replace(/^sqlite:\/\//, "");
    if (file !== ":memory:") mkdirSync(dirname(file), { recursive: true });
    const db = new SQLite(file);
    db.pragma("journal_mode = WAL");
    db.pragma("synchronous = NORMAL");
    db.pragma("foreign_keys = ON");
    db.pragma("busy_timeout = 5000");
    kysely = new Kysely({ dialect: new SqliteDialect({ database: db }) });
  } else if (engine === "postgres") {
    const pg = await import("pg");
    const Pool = pg.default.Pool;
    kysely = new Kysely({ dialect: new PostgresDialect({ pool: new Pool({ connectionString: url, max: 10 }) }) });
  } else {
    const mysql = await import("mysql2");
    const pool = mysql.createPool({ uri: url.replace(/^mariadb:/, "mysql:"), connectionLimit: 10, timezone: "Z", supportBigNumbers: true });
    kysely = new Kysely({ dialect: new MysqlDialect({ pool }) });
  }
  return { engine, url, kysely, close: () => kysely.destroy() };
}
