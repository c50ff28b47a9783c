// Plugins' storage: one table of JSON values keyed by (plugin, key); each plugin's store sees its own rows only.
import type { Kysely, Migration } from "kysely";
import { createTable, nowIso } from "../shared/db/index.js";
import type { PluginKv } from "./types.js";

/** Longest key, and largest stored value (its JSON, in bytes). */
export const MAX_KEY = 255;
export const MAX_VALUE_BYTES = 64 * 1024;

/** The plugins' schema, in its own migration table ("plugin_migration"). */
export const pluginMigrations: Record<string, Migration> = {
  "0001_kv": {
    async up(db: Kysely<any>) {
      await createTable(db, "plugin_kv")
        .addColumn("plugin", "varchar(64)", (c) => c.notNull())
        .addColumn("key", "varchar(255)", (c) => c.notNull())
        .addColumn("value", "text", (c) => c.notNull())
        .addColumn("updated_at", "varchar(32)", (c) => c.notNull())
        .addPrimaryKeyConstraint("plugin_kv_pk", ["plugin", "key"])
        .execute();
    },
    async down(db: Kysely<any>) {
      await db.schema.dropTable("plugin_kv").execute();
    },
  },
};

function checkKey(key: unknown): string {
  if (typeof key !== "string" || key === "" || key.length > MAX_KEY)
    throw new Error(`plugin store: a key is a string of 1 to ${MAX_KEY} characters`);
  return key;
}

/** The store of plugin `plugin` over the database `db()` (resolved at each call). */
export function pluginKv(db: () => Kysely<any>, plugin: string): PluginKv {
  return {
    async get(key) {
      const row = await db()
        .selectFrom("plugin_kv")
        .select("value")
        .where("plugin", "=", plugin)
        .where("key", "=", checkKey(key))
        .executeTakeFirst();
      return row ? JSON.parse(row.value as string) : undefined;
    },
    async put(key, value) {
      const json = JSON.stringify(value);
      if (json === undefined) throw new Error("plugin store: the value is not JSON");
      if (Buffer.byteLength(json) > MAX_VALUE_BYTES)
        throw new Error(`plugin store: a value is at most ${MAX_VALUE_BYTES} bytes of JSON`);
      const k = checkKey(key);
      await db()
        .transaction()
        .execute(async (tx) => {
          await tx.deleteFrom("plugin_kv").where("plugin", "=", plugin).where("key", "=", k).execute();
          await tx
            .insertInto("plugin_kv")
            .values({ plugin, key: k, value: json, updated_at: nowIso() })
            .execute();
        });
    },
    async delete(key) {
      const r = await db()
        .deleteFrom("plugin_kv")
        .where("plugin", "=", plugin)
        .where("key", "=", checkKey(key))
        .executeTakeFirst();
      return Number(r.numDeletedRows) > 0;
    },
    async list(prefix = "") {
      const rows = await db()
        .selectFrom("plugin_kv")
        .select("key")
        .where("plugin", "=", plugin)
        .orderBy("key")
        .execute();
      return rows
        .map((r) => r.key as string)
        .filter((k) => k.startsWith(prefix))
        .slice(0, 1000);
    },
  };
}
