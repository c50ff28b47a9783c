import type { Migration } from "kysely";
import { initialMigration } from "./0001-initial.js";

/** The compute service's schema migrations, in name order. */
export const computeMigrations: Record<string, Migration> = {
  "0001_initial": initialMigration,
};
