import type { Migration } from "kysely";
import { imagesMigration } from "./0001-images.js";
import { metadefsMigration } from "./0002-metadefs.js";
import { quotaLockMigration } from "../../shared/db/quota-lock.js";

/** The image service's schema migrations, in name order (each file adds its own). */
export const imageMigrations: Record<string, Migration> = {
  "0001_images": imagesMigration,
  "0002_metadefs": metadefsMigration,
  "0003_quota_lock": quotaLockMigration("image_quota_lock"),
};
