import { sql, type Kysely, type Migration } from "kysely";
import { createTable, withSerialId } from "../../shared/db/schema.js";

const time = "varchar(40)";
const uuid = "varchar(36)";

/**
 * Placement's schema: providers (integer ids for cheap joins, uuid and name unique), inventories and allocations
 * keyed by provider and resource class id, consumers with their generation, resource classes and traits (standard
 * and CUSTOM_), and the provider-trait and provider-aggregate associations. The indexes serve the set-based
 * capacity queries: inventory by class, allocation sums by provider and class, trait and aggregate membership
 * both ways, and trees by root and parent.
 */
export const initialMigration: Migration = {
  async up(db: Kysely<any>) {
    await withSerialId(db, createTable(db, "placement_provider"))
      .addColumn("uuid", sql.raw(uuid), (c) => c.notNull())
      .addColumn("name", "varchar(200)", (c) => c.notNull())
      .addColumn("generation", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("parent_id", "integer")
      .addColumn("root_id", "integer")
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time), (c) => c.notNull())
      .addUniqueConstraint("placement_provider_uuid_uq", ["uuid"])
      .addUniqueConstraint("placement_provider_name_uq", ["name"])
      .execute();
    await db.schema
      .createIndex("placement_provider_parent")
      .on("placement_provider")
      .column("parent_id")
      .execute();
    await db.schema
      .createIndex("placement_provider_root")
      .on("placement_provider")
      .column("root_id")
      .execute();

    await createTable(db, "placement_resource_class")
      .addColumn("id", "integer", (c) => c.primaryKey())
      .addColumn("name", "varchar(255)", (c) => c.notNull())
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time), (c) => c.notNull())
      .addUniqueConstraint("placement_resource_class_name_uq", ["name"])
      .execute();

    await createTable(db, "placement_inventory")
      .addColumn("provider_id", "integer", (c) => c.notNull())
      .addColumn("rc_id", "integer", (c) => c.notNull())
      .addColumn("total", "integer", (c) => c.notNull())
      .addColumn("reserved", "integer", (c) => c.notNull())
      .addColumn("min_unit", "integer", (c) => c.notNull())
      .addColumn("max_unit", "integer", (c) => c.notNull())
      .addColumn("step_size", "integer", (c) => c.notNull())
      .addColumn("allocation_ratio", "double precision", (c) => c.notNull())
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time), (c) => c.notNull())
      .addPrimaryKeyConstraint("placement_inventory_pk", ["provider_id", "rc_id"])
      .execute();
    await db.schema
      .createIndex("placement_inventory_rc")
      .on("placement_inventory")
      .columns(["rc_id", "provider_id"])
      .execute();

    await createTable(db, "placement_consumer")
      .addColumn("uuid", sql.raw(uuid), (c) => c.primaryKey())
      .addColumn("project_id", "varchar(255)", (c) => c.notNull())
      .addColumn("user_id", "varchar(255)", (c) => c.notNull())
      .addColumn("consumer_type", "varchar(255)")
      .addColumn("generation", "integer", (c) => c.notNull().defaultTo(0))
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time), (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("placement_consumer_project_user")
      .on("placement_consumer")
      .columns(["project_id", "user_id"])
      .execute();

    await createTable(db, "placement_allocation")
      .addColumn("consumer_id", sql.raw(uuid), (c) => c.notNull())
      .addColumn("provider_id", "integer", (c) => c.notNull())
      .addColumn("rc_id", "integer", (c) => c.notNull())
      .addColumn("used", "integer", (c) => c.notNull())
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time), (c) => c.notNull())
      .addPrimaryKeyConstraint("placement_allocation_pk", ["consumer_id", "provider_id", "rc_id"])
      .execute();
    // Covering index for usage sums per provider and class (the capacity checks).
    await db.schema
      .createIndex("placement_allocation_usage")
      .on("placement_allocation")
      .columns(["provider_id", "rc_id", "used"])
      .execute();
    await db.schema
      .createIndex("placement_allocation_rc")
      .on("placement_allocation")
      .columns(["rc_id", "provider_id"])
      .execute();

    await withSerialId(db, createTable(db, "placement_trait"))
      .addColumn("name", "varchar(255)", (c) => c.notNull())
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("updated_at", sql.raw(time), (c) => c.notNull())
      .addUniqueConstraint("placement_trait_name_uq", ["name"])
      .execute();

    await createTable(db, "placement_provider_trait")
      .addColumn("provider_id", "integer", (c) => c.notNull())
      .addColumn("trait_id", "integer", (c) => c.notNull())
      .addPrimaryKeyConstraint("placement_provider_trait_pk", ["provider_id", "trait_id"])
      .execute();
    await db.schema
      .createIndex("placement_provider_trait_trait")
      .on("placement_provider_trait")
      .columns(["trait_id", "provider_id"])
      .execute();

    await createTable(db, "placement_provider_aggregate")
      .addColumn("provider_id", "integer", (c) => c.notNull())
      .addColumn("aggregate_uuid", sql.raw(uuid), (c) => c.notNull())
      .addPrimaryKeyConstraint("placement_provider_aggregate_pk", ["provider_id", "aggregate_uuid"])
      .execute();
    await db.schema
      .createIndex("placement_provider_aggregate_agg")
      .on("placement_provider_aggregate")
      .columns(["aggregate_uuid", "provider_id"])
      .execute();
  },
  async down() {
    throw new Error("downgrades are not supported");
  },
};
