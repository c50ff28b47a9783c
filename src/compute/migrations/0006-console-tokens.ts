import type { Kysely, Migration } from "kysely";
import { createTable } from "../../shared/db/schema.js";

/**
 * Console auth tokens (Nova's console_auth_tokens): one row per console URL handed out, keyed by the SHA-256 of the
 * token (the token itself is never stored), so that any API process's console proxy can accept it once.
 */
export const consoleTokensMigration: Migration = {
  async up(db: Kysely<any>) {
    await createTable(db, "compute_console_token")
      .addColumn("token_hash", "varchar(64)", (c) => c.primaryKey())
      .addColumn("instance_uuid", "varchar(36)", (c) => c.notNull())
      .addColumn("console_type", "varchar(32)", (c) => c.notNull())
      .addColumn("compute_host", "varchar(255)", (c) => c.notNull())
      .addColumn("host", "varchar(255)", (c) => c.notNull())
      .addColumn("port", "integer", (c) => c.notNull())
      .addColumn("expires_ms", "bigint", (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("compute_console_token_expires")
      .on("compute_console_token")
      .columns(["expires_ms"])
      .execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.dropTable("compute_console_token").execute();
  },
};
