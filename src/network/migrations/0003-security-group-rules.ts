import { sql, type Kysely, type Migration } from "kysely";
import { createTable } from "../../shared/db/schema.js";

/**
 * Security group rules. `dedup_key` is the rule's meaning in one string (direction, ethertype, protocol number,
 * ports, remote prefix or group), unique per group, so a duplicate rule is refused whatever the races.
 */
export const securityGroupRulesMigration: Migration = {
  async up(db: Kysely<any>) {
    await createTable(db, "network_security_group_rule")
      .addColumn("id", sql.raw("varchar(36)"), (c) => c.primaryKey())
      .addColumn("project_id", sql.raw("varchar(255)"), (c) => c.notNull())
      .addColumn("security_group_id", sql.raw("varchar(36)"), (c) => c.notNull())
      .addColumn("direction", "varchar(16)", (c) => c.notNull())
      .addColumn("ethertype", "varchar(8)", (c) => c.notNull())
      .addColumn("protocol", "varchar(40)")
      .addColumn("port_range_min", "integer")
      .addColumn("port_range_max", "integer")
      .addColumn("remote_ip_prefix", "varchar(64)")
      .addColumn("remote_group_id", sql.raw("varchar(36)"))
      .addColumn("description", sql.raw("varchar(255)"), (c) => c.notNull())
      .addColumn("dedup_key", sql.raw("varchar(200)"), (c) => c.notNull())
      .addColumn("revision_number", "integer", (c) => c.notNull().defaultTo(1))
      .addColumn("created_at", sql.raw("varchar(40)"), (c) => c.notNull())
      .addColumn("updated_at", sql.raw("varchar(40)"), (c) => c.notNull())
      .addUniqueConstraint("network_sg_rule_unique", ["security_group_id", "dedup_key"])
      .execute();
    await db.schema
      .createIndex("network_sg_rule_project")
      .on("network_security_group_rule")
      .column("project_id")
      .execute();
    await db.schema
      .createIndex("network_sg_rule_remote")
      .on("network_security_group_rule")
      .column("remote_group_id")
      .execute();
  },
  async down() {
    throw new Error("downgrades are not supported");
  },
};
