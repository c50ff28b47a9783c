import type { Migration } from "kysely";
import { quotaLockMigration } from "../../shared/db/quota-lock.js";
import { networkMigration } from "./0001-network.js";
import { l3Migration } from "./0003-l3.js";
import { securityGroupRulesMigration } from "./0003-security-group-rules.js";
import { portBindingsMigration } from "./0004-port-bindings.js";

/** The network service's schema migrations, in name order (later stages add their own files). */
export const networkMigrations: Record<string, Migration> = {
  "0001_network": networkMigration,
  "0002_quota_lock": quotaLockMigration("network_quota_lock"),
  "0003_l3": l3Migration,
  "0003_security_group_rules": securityGroupRulesMigration,
  "0004_port_bindings": portBindingsMigration,
};
