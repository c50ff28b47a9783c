import type { Kysely, Migration } from "kysely";

/**
 * The network info cache (Nova's instance_info_caches.network_info): the server's ports as compute last saw them,
 * JSON, from which `addresses` is shown.
 */
export const networkInfoMigration: Migration = {
  async up(db: Kysely<any>) {
    await db.schema.alterTable("compute_instance").addColumn("network_info", "text").execute();
  },
  async down(db: Kysely<any>) {
    await db.schema.alterTable("compute_instance").dropColumn("network_info").execute();
  },
};
