import type { Migration } from "kysely";

/** The image service's schema migrations, in name order (each file adds its own). */
export const imageMigrations: Record<string, Migration> = {};
