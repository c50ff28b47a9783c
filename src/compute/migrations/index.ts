import type { Migration } from "kysely";
import { initialMigration } from "./0001-initial.js";
import { quotasServerGroupsMigration } from "./0002-quotas-server-groups.js";
import { serversMigration } from "./0003-servers.js";
import { quotaLockMigration } from "../../shared/db/quota-lock.js";
import { conductorOwnershipMigration } from "./0005-conductor-ownership.js";
import { consoleTokensMigration } from "./0006-console-tokens.js";
import { networkInfoMigration } from "./0007-network-info.js";
import { blockDeviceMappingsMigration } from "./0008-block-device-mappings.js";
import { bdmSnapshotMigration } from "./0009-bdm-snapshot.js";

/** The compute service's schema migrations, in name order. */
export const computeMigrations: Record<string, Migration> = {
  "0001_initial": initialMigration,
  "0002_quotas_server_groups": quotasServerGroupsMigration,
  "0003_servers": serversMigration,
  "0004_quota_lock": quotaLockMigration("compute_quota_lock"),
  "0005_conductor_ownership": conductorOwnershipMigration,
  "0006_console_tokens": consoleTokensMigration,
  "0007_network_info": networkInfoMigration,
  "0008_block_device_mappings": blockDeviceMappingsMigration,
  "0009_bdm_snapshot": bdmSnapshotMigration,
};
