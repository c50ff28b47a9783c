import type { Migration } from "kysely";
import { objectMigration } from "./0001-object.js";
import { containerSyncMigration } from "./0002-container-sync.js";
import { inlineMigration } from "./0003-inline.js";

/** The object service's schema migrations, in name order. */
export const objectMigrations: Record<string, Migration> = {
  "0001_object": objectMigration,
  "0002_container_sync": containerSyncMigration,
  "0003_inline": inlineMigration,
};
