// Multi-engine test setup: which SQL engines to run a suite on, a fresh database per engine (SQLite in the data
// directory; PostgreSQL and MariaDB from scripts/db-services.mjs ensureDatabases()), skip reasons for an engine that
// is not usable (unless CI is set: then it fails), dropping the database afterwards, and booting a cloud on it.
//
// Missing servers are started when installed; they are apt-get installed (as root) only with CI set or
// STRATUS_DB_INSTALL=1. STRATUS_TEST_ENGINES=sqlite,postgres limits the engines; STRATUS_TEST_POSTGRES_URL /
// STRATUS_TEST_MYSQL_URL pick other loopback admin logins.
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { sql } from "kysely";
import { startCloud, type Cloud } from "../../src/cloud/start.js";
import { loadConfig } from "../../src/shared/config.js";
import { openDatabase, type Engine } from "../../src/shared/db/index.js";

/** What scripts/db-services.mjs reports per server engine. */
interface ServerStatus {
  usable: boolean;
  url: string | null;
  reason: string | null;
  actions?: string[];
}
interface DbServices {
  ensureDatabases(opts?: { engines?: string[]; install?: boolean }): Promise<Record<string, ServerStatus>>;
  databaseUrl(adminUrl: string, name: string): string;
}

const ALL: Engine[] = ["sqlite", "postgres", "mysql"];
/** The engines to run on: all, or those listed in STRATUS_TEST_ENGINES. */
export const ENGINES: Engine[] = process.env.STRATUS_TEST_ENGINES
  ? ALL.filter((e) => process.env.STRATUS_TEST_ENGINES!.split(",").includes(e))
  : ALL;
/** With CI set, an unavailable engine is a failure rather than a skip. */
export const CI = !!process.env.CI && !["0", "false", "no"].includes(process.env.CI.toLowerCase());

// Compiled to dist/test/helpers/: the repository root is three levels up. A computed specifier keeps tsc from
// looking for the .mjs file's types.
const servicesModule = new URL("../../../scripts/db-services.mjs", import.meta.url).href;
let services: DbServices | null = null;
let servers: Record<string, ServerStatus> = {};

/** Make sure the server engines of ENGINES are running (a root-level before() hook of each engines suite). */
export function prepareEngines(): Promise<void> {
  return prepareServers(ENGINES);
}

/** Make sure the server engines among `engines` are running (for createTempDatabase). */
export async function prepareServers(engines: Engine[]): Promise<void> {
  const needed = engines.filter((e) => e !== "sqlite");
  if (!needed.length) return;
  services = (await import(servicesModule)) as DbServices;
  // Installing packages is for CI machines (or when asked); elsewhere only start what is installed.
  servers = await services.ensureDatabases({
    engines: needed,
    install: CI || process.env.STRATUS_DB_INSTALL === "1",
  });
}

/** A fresh database of one engine: its URL, or why the engine is skipped; drop() removes it. */
export interface TempDatabase {
  engine: Engine;
  /** The database URL ("" when skipped). */
  url: string;
  /** Set when the engine is not available (outside CI); the suite's cases skip with it. */
  skipReason: string | null;
  /** Drop the server database (a no-op for SQLite and skipped engines). */
  drop(): Promise<void>;
}

/**
 * Create an empty database for `engine`: for SQLite a file in `dataDir`, otherwise a uniquely named database
 * `${prefix}_<hex>` on the server prepareEngines() made ready. An unavailable engine gives a skipReason (and is
 * logged), or throws when CI is set.
 */
export async function createTempDatabase(
  engine: Engine,
  opts: { dataDir: string; prefix: string; sqliteFile?: string },
): Promise<TempDatabase> {
  const noop = async () => {};
  if (engine === "sqlite")
    return {
      engine,
      url: `sqlite://${join(opts.dataDir, opts.sqliteFile ?? "stratus.db")}`,
      skipReason: null,
      drop: noop,
    };
  const st = servers[engine];
  if (!services || !st?.usable || !st.url) {
    const reason = `${engine} is not available: ${st?.reason ?? "ensureDatabases() did not run"}`;
    if (CI) throw new Error(`${reason} (CI is set, so an unavailable engine is a failure)`);
    console.log(`skipping ${engine}: ${reason}`);
    return { engine, url: "", skipReason: reason, drop: noop };
  }
  const adminUrl = st.url;
  const dbName = `${opts.prefix}_${randomBytes(5).toString("hex")}`;
  const admin = await openDatabase(adminUrl);
  try {
    await sql.raw(`CREATE DATABASE ${dbName}`).execute(admin.kysely);
  } finally {
    await admin.close();
  }
  return {
    engine,
    url: services.databaseUrl(adminUrl, dbName),
    skipReason: null,
    drop: () => dropDatabase(engine, adminUrl, dbName),
  };
}

async function dropDatabase(engine: Engine, adminUrl: string, dbName: string): Promise<void> {
  const admin = await openDatabase(adminUrl);
  try {
    const drop = `DROP DATABASE IF EXISTS ${dbName}`;
    // WITH (FORCE) (PostgreSQL 13+) also ends sessions a failed test may have left open.
    if (engine === "postgres")
      await sql
        .raw(`${drop} WITH (FORCE)`)
        .execute(admin.kysely)
        .catch(() => sql.raw(drop).execute(admin.kysely));
    else await sql.raw(drop).execute(admin.kysely);
  } finally {
    await admin.close();
  }
}

/** Boot a cloud on this database and data directory (fast password hashing; no socket unless `listen`). */
export async function startEngineCloud(
  dataDir: string,
  url: string,
  opts: { listen?: boolean; host?: string } = {},
): Promise<Cloud> {
  const cfg = loadConfig(
    {
      dataDir,
      port: 0,
      ...(opts.host !== undefined ? { host: opts.host } : {}),
      logLevel: "silent",
      db: url,
      identity: { tokenExpiration: 3600, maxActiveKeys: 3, passwordHashCost: 12 },
    } as any,
    {},
  );
  return startCloud(cfg, { listen: opts.listen ?? false });
}

/**
 * IdentityService.start does not await its token keys yet (see the TODO in test/identity/core/boot.test.ts); until it
 * does, wait for them so that the first token request does not race their loading.
 */
export async function waitForTokenKeys(cloud: Cloud): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      cloud.identity.keys.all();
      return;
    } catch (err) {
      if (i >= 500) throw err;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}
