import { sql, type Kysely, type Migration } from "kysely";
import { createTable } from "../shared/db/schema.js";

const id = "varchar(64)";

/** Identity's schema, one migration per change, applied in name order. */
export const identityMigrations: Record<string, Migration> = {
  "0001_initial": {
    async up(db: Kysely<any>) {
      await createTable(db, "identity_project")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("name", "varchar(255)", (c) => c.notNull())
        .addColumn("domain_id", sql.raw(id), (c) => c.notNull())
        .addColumn("parent_id", sql.raw(id))
        .addColumn("is_domain", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("description", "text")
        .addColumn("enabled", "integer", (c) => c.notNull().defaultTo(1))
        .addColumn("extra", "text")
        .addColumn("options", "text")
        .addUniqueConstraint("identity_project_name_uq", ["domain_id", "name"])
        .execute();
      await createTable(db, "identity_project_tag")
        .addColumn("project_id", sql.raw(id), (c) => c.notNull())
        .addColumn("name", "varchar(255)", (c) => c.notNull())
        .addPrimaryKeyConstraint("identity_project_tag_pk", ["project_id", "name"])
        .execute();
      await createTable(db, "identity_user")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("name", "varchar(255)", (c) => c.notNull())
        .addColumn("domain_id", sql.raw(id), (c) => c.notNull())
        .addColumn("enabled", "integer", (c) => c.notNull().defaultTo(1))
        .addColumn("default_project_id", sql.raw(id))
        .addColumn("password_hash", "text")
        .addColumn("password_created_at", "varchar(40)")
        .addColumn("password_expires_at", "varchar(40)")
        .addColumn("extra", "text")
        .addColumn("options", "text")
        .addColumn("created_at", "varchar(40)", (c) => c.notNull())
        .addColumn("last_active_at", "varchar(40)")
        .addUniqueConstraint("identity_user_name_uq", ["domain_id", "name"])
        .execute();
      await createTable(db, "identity_group")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("name", "varchar(255)", (c) => c.notNull())
        .addColumn("domain_id", sql.raw(id), (c) => c.notNull())
        .addColumn("description", "text")
        .addColumn("extra", "text")
        .addUniqueConstraint("identity_group_name_uq", ["domain_id", "name"])
        .execute();
      await createTable(db, "identity_membership")
        .addColumn("user_id", sql.raw(id), (c) => c.notNull())
        .addColumn("group_id", sql.raw(id), (c) => c.notNull())
        .addPrimaryKeyConstraint("identity_membership_pk", ["user_id", "group_id"])
        .execute();
      await createTable(db, "identity_role")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("name", "varchar(255)", (c) => c.notNull())
        .addColumn("domain_id", sql.raw(id), (c) => c.notNull().defaultTo("<<null>>"))
        .addColumn("description", "text")
        .addColumn("extra", "text")
        .addColumn("options", "text")
        .addUniqueConstraint("identity_role_name_uq", ["domain_id", "name"])
        .execute();
      await createTable(db, "identity_implied_role")
        .addColumn("prior_role_id", sql.raw(id), (c) => c.notNull())
        .addColumn("implied_role_id", sql.raw(id), (c) => c.notNull())
        .addPrimaryKeyConstraint("identity_implied_role_pk", ["prior_role_id", "implied_role_id"])
        .execute();
      await createTable(db, "identity_assignment")
        .addColumn("type", "varchar(16)", (c) => c.notNull())
        .addColumn("actor_id", sql.raw(id), (c) => c.notNull())
        .addColumn("target_id", sql.raw(id), (c) => c.notNull())
        .addColumn("role_id", sql.raw(id), (c) => c.notNull())
        .addColumn("inherited", "integer", (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint("identity_assignment_pk", [
          "type",
          "actor_id",
          "target_id",
          "role_id",
          "inherited",
        ])
        .execute();
      await db.schema
        .createIndex("identity_assignment_actor")
        .on("identity_assignment")
        .column("actor_id")
        .execute();
      await db.schema
        .createIndex("identity_assignment_target")
        .on("identity_assignment")
        .column("target_id")
        .execute();
      await createTable(db, "identity_region")
        .addColumn("id", "varchar(255)", (c) => c.primaryKey())
        .addColumn("description", "text")
        .addColumn("parent_region_id", "varchar(255)")
        .addColumn("extra", "text")
        .execute();
      await createTable(db, "identity_service")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("type", "varchar(255)", (c) => c.notNull())
        .addColumn("enabled", "integer", (c) => c.notNull().defaultTo(1))
        .addColumn("extra", "text")
        .execute();
      await createTable(db, "identity_endpoint")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("service_id", sql.raw(id), (c) => c.notNull())
        .addColumn("interface", "varchar(8)", (c) => c.notNull())
        .addColumn("url", "text", (c) => c.notNull())
        .addColumn("region_id", "varchar(255)")
        .addColumn("enabled", "integer", (c) => c.notNull().defaultTo(1))
        .addColumn("extra", "text")
        .execute();
      await createTable(db, "identity_app_cred")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("name", "varchar(255)", (c) => c.notNull())
        .addColumn("secret_hash", "text", (c) => c.notNull())
        .addColumn("description", "text")
        .addColumn("user_id", sql.raw(id), (c) => c.notNull())
        .addColumn("project_id", sql.raw(id))
        .addColumn("system", "varchar(16)")
        .addColumn("expires_at", "varchar(40)")
        .addColumn("unrestricted", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("roles", "text", (c) => c.notNull())
        .addColumn("access_rules", "text")
        .addColumn("created_at", "varchar(40)", (c) => c.notNull())
        .addUniqueConstraint("identity_app_cred_name_uq", ["user_id", "name"])
        .execute();
      await createTable(db, "identity_access_rule")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("user_id", sql.raw(id), (c) => c.notNull())
        .addColumn("service", "varchar(64)", (c) => c.notNull())
        .addColumn("path", "varchar(255)", (c) => c.notNull())
        .addColumn("method", "varchar(16)", (c) => c.notNull())
        .execute();
      await createTable(db, "identity_credential")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("user_id", sql.raw(id), (c) => c.notNull())
        .addColumn("project_id", sql.raw(id))
        .addColumn("type", "varchar(255)", (c) => c.notNull())
        .addColumn("blob", "text", (c) => c.notNull())
        .addColumn("extra", "text")
        .execute();
      await createTable(db, "identity_registered_limit")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("service_id", sql.raw(id), (c) => c.notNull())
        .addColumn("region_id", "varchar(255)")
        .addColumn("resource_name", "varchar(255)", (c) => c.notNull())
        .addColumn("default_limit", "integer", (c) => c.notNull())
        .addColumn("description", "text")
        .execute();
      await createTable(db, "identity_limit")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("project_id", sql.raw(id))
        .addColumn("domain_id", sql.raw(id))
        .addColumn("service_id", sql.raw(id), (c) => c.notNull())
        .addColumn("region_id", "varchar(255)")
        .addColumn("resource_name", "varchar(255)", (c) => c.notNull())
        .addColumn("resource_limit", "integer", (c) => c.notNull())
        .addColumn("description", "text")
        .execute();
      await createTable(db, "identity_revocation_event")
        .addColumn("id", "varchar(40)", (c) => c.primaryKey())
        .addColumn("seq", "bigint", (c) => c.notNull())
        .addColumn("user_id", sql.raw(id))
        .addColumn("project_id", sql.raw(id))
        .addColumn("domain_id", sql.raw(id))
        .addColumn("role_id", sql.raw(id))
        .addColumn("audit_id", "varchar(40)")
        .addColumn("audit_chain_id", "varchar(40)")
        .addColumn("app_cred_id", sql.raw(id))
        .addColumn("issued_before", "bigint", (c) => c.notNull())
        .addColumn("revoked_at", "bigint", (c) => c.notNull())
        .execute();
      await createTable(db, "identity_policy")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("type", "varchar(255)", (c) => c.notNull())
        .addColumn("blob", "text", (c) => c.notNull())
        .addColumn("extra", "text")
        .execute();
    },
    async down() {
      throw new Error("downgrades are not supported");
    },
  },
  "0002_extensions": {
    // EC2 credentials live in identity_credential; this adds OAuth1 consumers, domain configs, endpoint groups
    // and project-endpoint associations (OS-EP-FILTER), trusts (OS-TRUST), trust ids on revocation events, and
    // the password history and failed-login counts of the security compliance rules.
    async up(db: Kysely<any>) {
      await createTable(db, "identity_consumer")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("description", "text")
        .addColumn("secret", "varchar(64)", (c) => c.notNull())
        .addColumn("extra", "text")
        .execute();
      await createTable(db, "identity_domain_config")
        .addColumn("domain_id", sql.raw(id), (c) => c.notNull())
        .addColumn("group_name", "varchar(255)", (c) => c.notNull())
        .addColumn("option_name", "varchar(255)", (c) => c.notNull())
        .addColumn("value", "text", (c) => c.notNull())
        .addColumn("sensitive", "integer", (c) => c.notNull().defaultTo(0))
        .addPrimaryKeyConstraint("identity_domain_config_pk", ["domain_id", "group_name", "option_name"])
        .execute();
      await createTable(db, "identity_endpoint_group")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("name", "varchar(255)", (c) => c.notNull())
        .addColumn("description", "text")
        .addColumn("filters", "text", (c) => c.notNull())
        .execute();
      await createTable(db, "identity_project_endpoint_group")
        .addColumn("endpoint_group_id", sql.raw(id), (c) => c.notNull())
        .addColumn("project_id", sql.raw(id), (c) => c.notNull())
        .addPrimaryKeyConstraint("identity_project_endpoint_group_pk", ["endpoint_group_id", "project_id"])
        .execute();
      await db.schema
        .createIndex("identity_project_endpoint_group_project")
        .on("identity_project_endpoint_group")
        .column("project_id")
        .execute();
      await createTable(db, "identity_project_endpoint")
        .addColumn("endpoint_id", sql.raw(id), (c) => c.notNull())
        .addColumn("project_id", sql.raw(id), (c) => c.notNull())
        .addPrimaryKeyConstraint("identity_project_endpoint_pk", ["endpoint_id", "project_id"])
        .execute();
      await db.schema
        .createIndex("identity_project_endpoint_project")
        .on("identity_project_endpoint")
        .column("project_id")
        .execute();
      await createTable(db, "identity_trust")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("trustor_user_id", sql.raw(id), (c) => c.notNull())
        .addColumn("trustee_user_id", sql.raw(id), (c) => c.notNull())
        .addColumn("project_id", sql.raw(id))
        .addColumn("impersonation", "integer", (c) => c.notNull().defaultTo(0))
        .addColumn("expires_at", "varchar(40)")
        .addColumn("remaining_uses", "integer")
        .addColumn("redelegated_trust_id", sql.raw(id))
        .addColumn("redelegation_count", "integer")
        .addColumn("created_at", "varchar(40)", (c) => c.notNull())
        .addColumn("extra", "text")
        .execute();
      await db.schema
        .createIndex("identity_trust_trustor")
        .on("identity_trust")
        .column("trustor_user_id")
        .execute();
      await db.schema
        .createIndex("identity_trust_trustee")
        .on("identity_trust")
        .column("trustee_user_id")
        .execute();
      await createTable(db, "identity_trust_role")
        .addColumn("trust_id", sql.raw(id), (c) => c.notNull())
        .addColumn("role_id", sql.raw(id), (c) => c.notNull())
        .addPrimaryKeyConstraint("identity_trust_role_pk", ["trust_id", "role_id"])
        .execute();
      await db.schema.alterTable("identity_revocation_event").addColumn("trust_id", sql.raw(id)).execute();
      // Security compliance: each password a user had (for history and minimum age) and failed logins (lockout).
      await createTable(db, "identity_password_history")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("user_id", sql.raw(id), (c) => c.notNull())
        .addColumn("password_hash", "text", (c) => c.notNull())
        .addColumn("created_at", "bigint", (c) => c.notNull())
        .addColumn("self_service", "integer", (c) => c.notNull().defaultTo(0))
        .execute();
      await db.schema
        .createIndex("identity_password_history_user")
        .on("identity_password_history")
        .column("user_id")
        .execute();
      await createTable(db, "identity_auth_failure")
        .addColumn("user_id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("failed_count", "integer", (c) => c.notNull())
        .addColumn("failed_at", "bigint", (c) => c.notNull())
        .execute();
    },
    async down() {
      throw new Error("downgrades are not supported");
    },
  },
  // Every API process polls the revocation table's high-water mark (seq) each second and prunes by revoked_at.
  "0003_revocation_seq_index": {
    async up(db: Kysely<any>) {
      await db.schema
        .createIndex("identity_revocation_event_seq")
        .on("identity_revocation_event")
        .column("seq")
        .execute();
      await db.schema
        .createIndex("identity_revocation_event_revoked_at")
        .on("identity_revocation_event")
        .column("revoked_at")
        .execute();
    },
    async down() {
      throw new Error("downgrades are not supported");
    },
  },
};
