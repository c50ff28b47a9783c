// Rows the operator API tests set up directly in the compute tables (services, nodes, instances, migrations,
// actions), so they do not depend on agents or the servers API.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import { insertWithId } from "../../../src/shared/db/index.js";
import { bootCompute, type ComputeCloud } from "../api/helpers.js";

/** A cloud without in-process compute agents (the tests own every service and node row). */
export const bootAdmin = (): Promise<ComputeCloud> => bootCompute({ compute: { hosts: 0 }, image: false });

/** The compute tables. */
export const dbOf = (c: ComputeCloud): Kysely<any> => c.t.cloud.db.kysely as Kysely<any>;

const iso = (ms: number) => new Date(ms).toISOString();

/** Insert a service row (up unless last_seen_up_ms says otherwise). */
export async function addService(
  db: Kysely<any>,
  o: { host: string; binary?: string } & Record<string, unknown>,
): Promise<{ id: number; uuid: string }> {
  const uuid = randomUUID();
  const id = await insertWithId(db, "compute_service", {
    uuid,
    binary: "nova-compute",
    topic: o.binary && o.binary !== "nova-compute" ? null : "compute",
    report_count: 1,
    disabled: 0,
    disabled_reason: null,
    forced_down: 0,
    last_seen_up_ms: Date.now(),
    version: 1,
    created_at: iso(Date.now()),
    updated_at: null,
    ...o,
  });
  return { id, uuid };
}

/** Insert a compute node of a host. */
export async function addNode(
  db: Kysely<any>,
  o: { host: string } & Record<string, unknown>,
): Promise<{ id: number; uuid: string }> {
  const uuid = (o.uuid as string) ?? randomUUID();
  const id = await insertWithId(db, "compute_node", {
    hypervisor_hostname: o.host,
    hypervisor_type: "fake",
    hypervisor_version: 1000,
    host_ip: "192.0.2.10",
    vcpus: 8,
    memory_mb: 16384,
    local_gb: 100,
    vcpus_used: 2,
    memory_mb_used: 1024,
    local_gb_used: 10,
    running_vms: 1,
    cpu_info: JSON.stringify({ arch: "x86_64", model: "fake" }),
    created_at: iso(Date.now()),
    updated_at: null,
    ...o,
    uuid,
  });
  return { id, uuid };
}

/** The flavor JSON embedded in instances (m1.tiny-like). */
export const FLAVOR = {
  flavorid: "1",
  name: "m1.tiny",
  memory_mb: 512,
  vcpus: 1,
  root_gb: 1,
  ephemeral_gb: 0,
  swap: 0,
  rxtx_factor: 1,
  is_public: true,
  description: null,
  extra_specs: {},
};

/** Insert an instance (active on `host` unless overridden); returns its uuid and row id. */
export async function addInstance(
  db: Kysely<any>,
  o: Record<string, unknown> = {},
): Promise<{ uuid: string; id: number }> {
  const uuid = (o.uuid as string) ?? randomUUID();
  const flavor = (o.flavor as typeof FLAVOR) ?? FLAVOR;
  const id = await insertWithId(db, "compute_instance", {
    display_name: "vm",
    hostname: "vm",
    description: null,
    project_id: "p1",
    user_id: "u1",
    image_ref: randomUUID(),
    vcpus: flavor.vcpus,
    memory_mb: flavor.memory_mb,
    config_drive: "",
    host: null,
    node: null,
    vm_state: "active",
    task_state: null,
    power_state: 1,
    reservation_id: "r-1",
    security_groups: "[]",
    addresses: "{}",
    request_spec: JSON.stringify({
      image: { id: "x", min_ram: 0, min_disk: 0, properties: {} },
      hints: {},
      networks: "none",
    }),
    system_metadata: "{}",
    launched_at: null,
    terminated_at: null,
    deleted: 0,
    deleted_at: null,
    created_at: iso(Date.now()),
    updated_at: null,
    ...o,
    flavor: JSON.stringify(flavor),
    uuid,
  });
  return { uuid, id };
}

/** Insert a migration record. */
export async function addMigration(
  db: Kysely<any>,
  o: { instance_uuid: string } & Record<string, unknown>,
): Promise<{ id: number; uuid: string }> {
  const uuid = randomUUID();
  const id = await insertWithId(db, "compute_server_migration", {
    source_compute: "src",
    dest_compute: "dst",
    source_node: "src",
    dest_node: "dst",
    dest_host: "192.0.2.20",
    old_flavor_id: "1",
    new_flavor_id: "2",
    status: "migrating",
    migration_type: "migration",
    project_id: "p1",
    user_id: "u1",
    created_at: iso(Date.now()),
    updated_at: iso(Date.now()),
    ...o,
    uuid,
  });
  return { id, uuid };
}

/** Insert an instance action and its events. */
export async function addAction(
  db: Kysely<any>,
  o: { instance_uuid: string; request_id: string } & Record<string, unknown>,
  events: Array<Record<string, unknown>> = [],
): Promise<number> {
  const id = await insertWithId(db, "compute_instance_action", {
    action: "create",
    user_id: "u1",
    project_id: "p1",
    start_time: iso(Date.now()),
    finish_time: null,
    message: null,
    updated_at: iso(Date.now()),
    ...o,
  });
  for (const e of events)
    await insertWithId(db, "compute_instance_action_event", {
      action_id: id,
      event: "compute_build_and_run_instance",
      start_time: iso(Date.now()),
      finish_time: iso(Date.now()),
      result: "Success",
      traceback: null,
      host: "h1",
      details: null,
      ...e,
    });
  return id;
}

/** A request to the placement API as the admin (microversion 1.39). */
export async function placementReq(
  c: ComputeCloud,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; body: any }> {
  const r = await c.t.cloud.app.inject({
    method: method as any,
    url: `/placement${path}`,
    headers: {
      accept: "application/json",
      "x-auth-token": c.admin,
      "openstack-api-version": "placement 1.39",
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(body !== undefined ? { payload: JSON.stringify(body) } : {}),
  });
  return { status: r.statusCode, body: r.payload ? JSON.parse(r.payload) : undefined };
}
