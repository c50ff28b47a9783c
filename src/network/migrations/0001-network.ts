import { sql, type CreateTableBuilder, type Kysely, type Migration } from "kysely";
import { createTable } from "../../shared/db/schema.js";

const id = "varchar(36)";
const time = "varchar(40)";
const name = "varchar(255)";

/** Columns every Neutron "standard attribute" resource has: revision_number and timestamps. */
function standard(t: CreateTableBuilder<any, any>): CreateTableBuilder<any, any> {
  return t
    .addColumn("revision_number", "integer", (c) => c.notNull().defaultTo(1))
    .addColumn("created_at", sql.raw(time), (c) => c.notNull())
    .addColumn("updated_at", sql.raw(time), (c) => c.notNull());
}

/**
 * The network service's tables (Neutron's networks, segments, subnets, subnet pools, ports with their IP
 * allocations, RBAC entries, tags, quotas and agents). Lists inside a resource (allocation pools, DNS servers, host
 * routes, address pairs, DHCP options) are JSON text. Two unique constraints make allocation race-free across
 * processes: an IP is allocated once per network (network_ip_allocation's key) and a MAC once per network
 * (network_port). Segments carry `alloc_key` ("vxlan::1001", "vlan:physnet1:100", "flat:public"), unique, so a
 * segmentation id or a flat physical network is taken once.
 */
export const networkMigration: Migration = {
  async up(db: Kysely<any>) {
    await standard(
      createTable(db, "network_network")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("project_id", sql.raw(name), (c) => c.notNull())
        .addColumn("name", sql.raw(name), (c) => c.notNull())
        .addColumn("description", sql.raw(name), (c) => c.notNull())
        .addColumn("admin_state_up", "integer", (c) => c.notNull())
        .addColumn("status", "varchar(16)", (c) => c.notNull())
        .addColumn("mtu", "integer", (c) => c.notNull())
        .addColumn("port_security_enabled", "integer", (c) => c.notNull())
        .addColumn("router_external", "integer", (c) => c.notNull())
        .addColumn("availability_zone_hints", "text", (c) => c.notNull()),
    ).execute();
    await db.schema
      .createIndex("network_network_project")
      .on("network_network")
      .column("project_id")
      .execute();

    await createTable(db, "network_segment")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("network_id", sql.raw(id), (c) => c.notNull())
      .addColumn("network_type", "varchar(32)", (c) => c.notNull())
      .addColumn("physical_network", "varchar(64)")
      .addColumn("segmentation_id", "integer")
      .addColumn("alloc_key", "varchar(128)", (c) => c.unique())
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .execute();
    await db.schema
      .createIndex("network_segment_network")
      .on("network_segment")
      .column("network_id")
      .execute();

    await standard(
      createTable(db, "network_subnet")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("project_id", sql.raw(name), (c) => c.notNull())
        .addColumn("network_id", sql.raw(id), (c) => c.notNull())
        .addColumn("name", sql.raw(name), (c) => c.notNull())
        .addColumn("description", sql.raw(name), (c) => c.notNull())
        .addColumn("ip_version", "integer", (c) => c.notNull())
        .addColumn("cidr", "varchar(64)", (c) => c.notNull())
        .addColumn("gateway_ip", "varchar(64)")
        .addColumn("enable_dhcp", "integer", (c) => c.notNull())
        .addColumn("ipv6_ra_mode", "varchar(20)")
        .addColumn("ipv6_address_mode", "varchar(20)")
        .addColumn("subnetpool_id", sql.raw(id))
        .addColumn("allocation_pools", "text", (c) => c.notNull())
        .addColumn("dns_nameservers", "text", (c) => c.notNull())
        .addColumn("host_routes", "text", (c) => c.notNull()),
    ).execute();
    await db.schema.createIndex("network_subnet_network").on("network_subnet").column("network_id").execute();
    await db.schema.createIndex("network_subnet_pool").on("network_subnet").column("subnetpool_id").execute();

    await standard(
      createTable(db, "network_subnetpool")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("project_id", sql.raw(name), (c) => c.notNull())
        .addColumn("name", sql.raw(name), (c) => c.notNull())
        .addColumn("description", sql.raw(name), (c) => c.notNull())
        .addColumn("ip_version", "integer", (c) => c.notNull())
        .addColumn("prefixes", "text", (c) => c.notNull())
        .addColumn("default_prefixlen", "integer", (c) => c.notNull())
        .addColumn("min_prefixlen", "integer", (c) => c.notNull())
        .addColumn("max_prefixlen", "integer", (c) => c.notNull())
        .addColumn("shared", "integer", (c) => c.notNull())
        .addColumn("is_default", "integer", (c) => c.notNull())
        .addColumn("default_quota", "integer"),
    ).execute();

    await standard(
      createTable(db, "network_port")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("project_id", sql.raw(name), (c) => c.notNull())
        .addColumn("network_id", sql.raw(id), (c) => c.notNull())
        .addColumn("name", sql.raw(name), (c) => c.notNull())
        .addColumn("description", sql.raw(name), (c) => c.notNull())
        .addColumn("mac_address", "varchar(32)", (c) => c.notNull())
        .addColumn("admin_state_up", "integer", (c) => c.notNull())
        .addColumn("status", "varchar(16)", (c) => c.notNull())
        .addColumn("device_id", sql.raw(name), (c) => c.notNull())
        .addColumn("device_owner", sql.raw(name), (c) => c.notNull())
        .addColumn("port_security_enabled", "integer", (c) => c.notNull())
        .addColumn("binding_host_id", sql.raw(name), (c) => c.notNull())
        .addColumn("binding_vnic_type", "varchar(64)", (c) => c.notNull())
        .addColumn("binding_profile", "text", (c) => c.notNull())
        .addColumn("binding_vif_type", "varchar(64)", (c) => c.notNull())
        .addColumn("binding_vif_details", "text", (c) => c.notNull())
        .addColumn("allowed_address_pairs", "text", (c) => c.notNull())
        .addColumn("extra_dhcp_opts", "text", (c) => c.notNull())
        .addUniqueConstraint("network_port_mac", ["network_id", "mac_address"]),
    ).execute();
    await db.schema.createIndex("network_port_project").on("network_port").column("project_id").execute();
    await db.schema.createIndex("network_port_device").on("network_port").column("device_id").execute();

    await createTable(db, "network_ip_allocation")
      .addColumn("network_id", sql.raw(id), (c) => c.notNull())
      .addColumn("ip_address", "varchar(64)", (c) => c.notNull())
      .addColumn("subnet_id", sql.raw(id), (c) => c.notNull())
      .addColumn("port_id", sql.raw(id), (c) => c.notNull())
      .addColumn("seq", "integer", (c) => c.notNull())
      .addPrimaryKeyConstraint("network_ip_allocation_pk", ["network_id", "ip_address"])
      .execute();
    await db.schema
      .createIndex("network_ip_allocation_subnet")
      .on("network_ip_allocation")
      .column("subnet_id")
      .execute();
    await db.schema
      .createIndex("network_ip_allocation_port")
      .on("network_ip_allocation")
      .column("port_id")
      .execute();

    await createTable(db, "network_port_security_group")
      .addColumn("port_id", sql.raw(id), (c) => c.notNull())
      .addColumn("security_group_id", sql.raw(id), (c) => c.notNull())
      .addPrimaryKeyConstraint("network_port_security_group_pk", ["port_id", "security_group_id"])
      .execute();
    await db.schema
      .createIndex("network_port_security_group_sg")
      .on("network_port_security_group")
      .column("security_group_id")
      .execute();

    await standard(
      createTable(db, "network_security_group")
        .addColumn("id", sql.raw(id), (c) => c.primaryKey())
        .addColumn("project_id", sql.raw(name), (c) => c.notNull())
        .addColumn("name", sql.raw(name), (c) => c.notNull())
        .addColumn("description", sql.raw(name), (c) => c.notNull())
        .addColumn("stateful", "integer", (c) => c.notNull()),
    ).execute();
    await db.schema
      .createIndex("network_security_group_project")
      .on("network_security_group")
      .column("project_id")
      .execute();
    // One default group per project, created on first use by whichever request gets there first.
    await createTable(db, "network_default_security_group")
      .addColumn("project_id", sql.raw(name), (c) => c.primaryKey())
      .addColumn("security_group_id", sql.raw(id), (c) => c.notNull())
      .execute();

    await createTable(db, "network_rbac")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("project_id", sql.raw(name), (c) => c.notNull())
      .addColumn("object_type", "varchar(32)", (c) => c.notNull())
      .addColumn("object_id", sql.raw(id), (c) => c.notNull())
      .addColumn("action", "varchar(32)", (c) => c.notNull())
      .addColumn("target_project", sql.raw(name), (c) => c.notNull())
      .addUniqueConstraint("network_rbac_entry", ["object_type", "object_id", "action", "target_project"])
      .execute();
    await db.schema.createIndex("network_rbac_object").on("network_rbac").column("object_id").execute();

    await createTable(db, "network_tag")
      .addColumn("resource_type", "varchar(32)", (c) => c.notNull())
      .addColumn("resource_id", sql.raw(id), (c) => c.notNull())
      .addColumn("tag", sql.raw(name), (c) => c.notNull())
      .addPrimaryKeyConstraint("network_tag_pk", ["resource_type", "resource_id", "tag"])
      .execute();

    await createTable(db, "network_quota")
      .addColumn("project_id", sql.raw(name), (c) => c.notNull())
      .addColumn("resource", "varchar(64)", (c) => c.notNull())
      .addColumn("hard_limit", "integer", (c) => c.notNull())
      .addPrimaryKeyConstraint("network_quota_pk", ["project_id", "resource"])
      .execute();

    await createTable(db, "network_agent")
      .addColumn("id", sql.raw(id), (c) => c.primaryKey())
      .addColumn("agent_type", "varchar(64)", (c) => c.notNull())
      .addColumn("binary", "varchar(64)", (c) => c.notNull())
      .addColumn("host", sql.raw(name), (c) => c.notNull())
      .addColumn("topic", "varchar(64)", (c) => c.notNull())
      .addColumn("availability_zone", sql.raw(name))
      .addColumn("admin_state_up", "integer", (c) => c.notNull())
      .addColumn("configurations", "text", (c) => c.notNull())
      .addColumn("description", sql.raw(name), (c) => c.notNull())
      .addColumn("created_at", sql.raw(time), (c) => c.notNull())
      .addColumn("started_at", sql.raw(time), (c) => c.notNull())
      .addColumn("heartbeat_at", sql.raw(time), (c) => c.notNull())
      .addUniqueConstraint("network_agent_type_host", ["agent_type", "host"])
      .execute();

    // Things done once per cloud (the start-up topology), claimed by inserting their name.
    await createTable(db, "network_meta")
      .addColumn("name", "varchar(64)", (c) => c.primaryKey())
      .addColumn("value", "text")
      .execute();
  },
  async down() {
    throw new Error("downgrades are not supported");
  },
};
