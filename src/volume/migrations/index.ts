import type { Migration } from "kysely";
import { quotaLockMigration } from "../../shared/db/quota-lock.js";
import { volumeMigration } from "./0001-volume.js";
import { transferMigration } from "./0003-transfers.js";
import { backupMigration } from "./0003-backup.js";
import { groupMigration } from "./0004-groups.js";
import { backupDataMigration } from "./0005-backup-data.js";
import { typeEncryptionMigration } from "./0006-type-encryption.js";
import { migrationStatusMigration } from "./0007-migration-status.js";

/** The block storage service's schema migrations, in name order. */
export const volumeMigrations: Record<string, Migration> = {
  "0001_volume": volumeMigration,
  "0002_quota_lock": quotaLockMigration("volume_quota_lock"),
  "0003_transfers": transferMigration,
  "0003_backup": backupMigration,
  "0004_groups": groupMigration,
  "0005_backup_data": backupDataMigration,
  "0006_type_encryption": typeEncryptionMigration,
  "0007_migration_status": migrationStatusMigration,
};
