// The instances table and its companions (faults, actions/events): typed rows and compare-and-set transitions.
// Every change of vm_state/task_state goes through casUpdate, so two racing actions cannot both win.
// system_metadata is only ever changed key by key (InstancePatch.sysmeta), never written back from a stale copy.
import type { Kysely } from "kysely";
import { nowIso } from "../../shared/db/index.js";
import { conflict, notFound } from "../errors.js";
import { applySysMeta, type SysMetaChange } from "./system-metadata.js";

/** The flavor embedded in an instance (as it was when the server was built or last resized). */
export interface InstanceFlavor {
  flavorid: string;
  name: string;
  memory_mb: number;
  vcpus: number;
  root_gb: number;
  ephemeral_gb: number;
  swap: number;
  rxtx_factor: number;
  is_public: boolean;
  description: string | null;
  extra_specs: Record<string, string>;
}

/** What scheduling needs, kept for later moves (resize, migrate, evacuate, unshelve). */
export interface RequestSpec {
  image: {
    id: string;
    name?: string;
    min_ram: number;
    min_disk: number;
    disk_format?: string;
    size?: number;
    virtual_size?: number;
    properties: Record<string, string>;
  };
  /** Requested availability zone (server create's availability_zone without host parts). */
  availabilityZone?: string;
  /** Admin-forced host/node ("az:host:node"). */
  forcedHost?: string;
  forcedNode?: string;
  /** Scheduler hints as given (group, same_host, different_host, ...). */
  hints: Record<string, unknown>;
  groupUuid?: string;
  networks: "auto" | "none" | Array<Record<string, string>>;
  /** The NICs the API resolved from `networks` (absent: none, or a server created before networking). */
  nics?: RequestedNic[];
  /** The root disk is a volume (boot from volume): no local root disk is claimed in placement. */
  volumeBacked?: boolean;
}

/** One NIC a server asked for, as the API validated it: a network (with an optional address) or a user's port. */
export interface RequestedNic {
  networkId: string;
  portId?: string;
  fixedIp?: string;
  tag?: string;
}

/** One port in a server's network info cache (Nova's VIF model, the parts Stratus uses). */
export interface VifInfo {
  portId: string;
  networkId: string;
  networkName: string;
  mac: string;
  mtu: number;
  /** The host-side device name (Neutron's: "tap" + the port id's first 11 characters). */
  devname: string;
  /** Fixed IPs, each with the floating IPs associated with it (Nova's network info keeps them together). */
  ips: Array<{ address: string; version: 4 | 6; floating?: string[]; subnetId?: string }>;
  /** The subnets of the fixed IPs (network_data.json's networks, routes and DNS; absent in older caches). */
  subnets?: VifSubnet[];
  /** binding:vif_type and binding:vif_details as the network service bound the port (absent in older caches). */
  vifType?: string;
  vifDetails?: Record<string, unknown>;
  /** True when compute created the port (deleted with the server); false for a user's port (only unbound). */
  preserveOnDelete: boolean;
  tag?: string;
}

/** A subnet in the network info cache. */
export interface VifSubnet {
  id: string;
  cidr: string;
  version: 4 | 6;
  gateway: string | null;
  enableDhcp: boolean;
  dns: string[];
  routes: Array<{ cidr: string; gateway: string }>;
  ipv6AddressMode?: string;
}

/** A compute_instance row with its JSON columns parsed. */
export interface Instance {
  id: number;
  uuid: string;
  display_name: string;
  hostname: string;
  description: string | null;
  project_id: string;
  user_id: string;
  image_ref: string;
  flavor: InstanceFlavor;
  vcpus: number;
  memory_mb: number;
  key_name: string | null;
  key_data: string | null;
  user_data: string | null;
  config_drive: string;
  host: string | null;
  node: string | null;
  availability_zone: string | null;
  vm_state: string;
  task_state: string | null;
  /** The conductor (its compute_conductor id) driving the server's build or move, if one is. */
  task_owner?: string | null;
  power_state: number;
  locked: boolean;
  locked_by: string | null;
  locked_reason: string | null;
  reservation_id: string;
  launch_index: number;
  access_ip_v4: string | null;
  access_ip_v6: string | null;
  progress: number;
  /** Requested security groups: names shown by the API, with the ids resolved at create when networking runs. */
  security_groups: Array<{ name: string; id?: string }>;
  addresses: Record<string, Array<Record<string, unknown>>>;
  /** The network info cache; absent (null in the row) means no ports. */
  network_info?: VifInfo[] | null;
  request_spec: RequestSpec;
  system_metadata: Record<string, unknown>;
  launched_at: string | null;
  terminated_at: string | null;
  deleted: number;
  deleted_at: string | null;
  created_at: string;
  updated_at: string | null;
}

const JSON_COLS = [
  "flavor",
  "security_groups",
  "addresses",
  "network_info",
  "request_spec",
  "system_metadata",
] as const;

/** A raw row → Instance. */
export function parseInstance(row: Record<string, unknown>): Instance {
  const out = { ...row } as Record<string, unknown>;
  for (const c of JSON_COLS) out[c] = typeof row[c] === "string" ? JSON.parse(row[c]) : row[c];
  out.locked = Number(row.locked) === 1;
  out.power_state = Number(row.power_state);
  out.launch_index = Number(row.launch_index);
  out.progress = Number(row.progress);
  out.deleted = Number(row.deleted);
  out.id = Number(row.id);
  out.vcpus = Number(row.vcpus);
  out.memory_mb = Number(row.memory_mb);
  return out as unknown as Instance;
}

/**
 * A change to an instance row. system_metadata is never written whole (a copy read earlier would wipe what other
 * writers put there meanwhile): `sysmeta` names the keys to set or remove, applied to the row as it is then.
 */
export type InstancePatch = Partial<Omit<Instance, "id" | "uuid" | "system_metadata">> & {
  sysmeta?: SysMetaChange;
  system_metadata?: never;
};

/** Columns in DB form (JSON columns serialised, booleans as 0/1). */
function toDb(patch: Partial<Instance>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) continue;
    if ((JSON_COLS as readonly string[]).includes(k)) out[k] = JSON.stringify(v);
    else if (k === "locked") out[k] = v ? 1 : 0;
    else out[k] = v;
  }
  return out;
}

/** Insert a new instance row. */
export async function insertInstance(db: Kysely<any>, inst: Omit<Instance, "id">): Promise<void> {
  await db
    .insertInto("compute_instance")
    .values(toDb(inst) as never)
    .execute();
}

/** An instance by uuid (deleted ones only when asked), or undefined. */
export async function findInstance(
  db: Kysely<any>,
  uuid: string,
  opts: { withDeleted?: boolean } = {},
): Promise<Instance | undefined> {
  let q = db.selectFrom("compute_instance").selectAll().where("uuid", "=", uuid);
  if (!opts.withDeleted) q = q.where("deleted", "=", 0);
  const row = await q.executeTakeFirst();
  return row ? parseInstance(row) : undefined;
}

/** An instance by uuid or Nova's 404 "Instance X could not be found.". */
export async function getInstance(db: Kysely<any>, uuid: string): Promise<Instance> {
  const inst = await findInstance(db, uuid);
  if (!inst) throw notFound(`Instance ${uuid} could not be found.`);
  return inst;
}

/** What the row must look like for a compare-and-set update to apply. */
export interface Expect {
  vmState?: readonly string[];
  /** Allowed task states; null in the list means "no task". */
  taskState?: readonly (string | null)[];
  host?: string | null;
  /** The row must not be soft-deleted (default true). */
  live?: boolean;
  /**
   * task_owner: this conductor id; or, with `deadBefore`, no owner or one whose last heartbeat (ms) is older
   * than that (the conductor died).
   */
  owner?: string | { deadBefore: number };
}

/** How many times a system_metadata change is retried when other writers keep changing the column. */
const SYSMETA_ATTEMPTS = 10;

/**
 * Apply `patch` only if the row matches `expect`; true when it did. A `sysmeta` change is a compare-and-set on
 * the system_metadata text as just read, retried (at most SYSMETA_ATTEMPTS times) while only that text moved;
 * false when the row stopped matching `expect` or the column kept changing.
 */
export async function casUpdate(
  db: Kysely<any>,
  uuid: string,
  expect: Expect,
  patch: InstancePatch,
): Promise<boolean> {
  const { sysmeta, ...cols } = patch;
  if (!sysmeta) return casUpdateOnce(db, uuid, expect, cols);
  let was = await sysMetaText(db, uuid, expect);
  for (let attempt = 0; attempt < SYSMETA_ATTEMPTS && was !== undefined; attempt++) {
    const next = JSON.stringify(applySysMeta(JSON.parse(was) as Record<string, unknown>, sysmeta));
    if (await casUpdateOnce(db, uuid, expect, cols, { was, next })) return true;
    const now = await sysMetaText(db, uuid, expect);
    // Unchanged text: it was `expect` that failed, and another try would fail alike.
    if (now === was) return false;
    was = now;
  }
  return false;
}

/** The system_metadata text of the row (undefined: no such row, or soft-deleted unless `expect.live` is false). */
async function sysMetaText(db: Kysely<any>, uuid: string, expect: Expect): Promise<string | undefined> {
  let q = db.selectFrom("compute_instance").select("system_metadata").where("uuid", "=", uuid);
  if (expect.live !== false) q = q.where("deleted", "=", 0);
  const row = (await q.executeTakeFirst()) as { system_metadata: string } | undefined;
  return row?.system_metadata;
}

/** One conditional UPDATE; with `sysmeta`, the system_metadata text must still be `was` and becomes `next`. */
async function casUpdateOnce(
  db: Kysely<any>,
  uuid: string,
  expect: Expect,
  cols: Omit<InstancePatch, "sysmeta">,
  sysmeta?: { was: string; next: string },
): Promise<boolean> {
  let q = db
    .updateTable("compute_instance")
    .set({
      ...toDb(cols),
      ...(sysmeta ? { system_metadata: sysmeta.next } : {}),
      updated_at: nowIso(),
    } as never)
    .where("uuid", "=", uuid);
  if (sysmeta) q = q.where("system_metadata", "=", sysmeta.was);
  if (expect.live !== false) q = q.where("deleted", "=", 0);
  if (expect.vmState) q = q.where("vm_state", "in", expect.vmState as string[]);
  if (expect.taskState) {
    const values = expect.taskState.filter((t): t is string => t !== null);
    const allowNull = expect.taskState.includes(null);
    q = q.where((eb) => {
      const ors = [];
      if (values.length) ors.push(eb("task_state", "in", values));
      if (allowNull) ors.push(eb("task_state", "is", null));
      return eb.or(ors);
    });
  }
  if (expect.host !== undefined)
    q = q.where((eb) => (expect.host === null ? eb("host", "is", null) : eb("host", "=", expect.host!)));
  const owner = expect.owner;
  if (typeof owner === "string") q = q.where("task_owner", "=", owner);
  else if (owner)
    q = q.where((eb) =>
      eb.or([
        eb("task_owner", "is", null),
        eb(
          "task_owner",
          "not in",
          eb.selectFrom("compute_conductor").select("id").where("heartbeat_ms", ">=", owner.deadBefore),
        ),
      ]),
    );
  const r = await q.executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/**
 * An API request's change to a server that needs no particular state (rename, disk_config, clearing the
 * password): 404 when the server is gone, 409 when other writers kept changing its system_metadata.
 */
export async function updateServer(db: Kysely<any>, uuid: string, patch: InstancePatch): Promise<void> {
  if (await casUpdate(db, uuid, {}, patch)) return;
  await getInstance(db, uuid);
  throw conflict(`Instance ${uuid} was changed by another request meanwhile; try again.`);
}

/**
 * A user-requested state change: apply it if the instance is in an allowed state, else 409 in Nova's words
 * ("Cannot 'pause' instance X while it is in task_state rebooting").
 */
export async function transition(
  db: Kysely<any>,
  inst: Instance,
  action: string,
  expect: Expect,
  patch: InstancePatch,
): Promise<void> {
  if (await casUpdate(db, inst.uuid, expect, patch)) return;
  const now = (await findInstance(db, inst.uuid)) ?? inst;
  throw stateConflict(action, now, expect);
}

/** The 409 Nova returns when an action does not fit the instance's state. */
export function stateConflict(action: string, inst: Instance, expect: Expect = {}) {
  const attr =
    expect.taskState && !expect.taskState.includes(inst.task_state)
      ? `task_state ${inst.task_state}`
      : `vm_state ${inst.vm_state}`;
  return conflict(`Cannot '${action}' instance ${inst.uuid} while it is in ${attr}`);
}

/** Record a fault shown on the server (code 500 for failures, 400 for user errors). */
export async function addFault(
  db: Kysely<any>,
  uuid: string,
  fault: { code: number; message: string; details?: string; host?: string | null },
): Promise<void> {
  await db
    .insertInto("compute_instance_fault")
    .values({
      instance_uuid: uuid,
      code: fault.code,
      message: fault.message.slice(0, 10000),
      details: fault.details ?? null,
      host: fault.host ?? null,
      created_at: nowIso(),
    })
    .execute();
}

/** The latest fault of each instance. */
export async function latestFaults(
  db: Kysely<any>,
  uuids: string[],
): Promise<Map<string, { code: number; message: string; details: string | null; created_at: string }>> {
  const out = new Map<
    string,
    { code: number; message: string; details: string | null; created_at: string }
  >();
  if (uuids.length === 0) return out;
  for (let i = 0; i < uuids.length; i += 500) {
    const rows = (await db
      .selectFrom("compute_instance_fault")
      .select(["instance_uuid", "code", "message", "details", "created_at", "id"])
      .where("instance_uuid", "in", uuids.slice(i, i + 500))
      .orderBy("id", "asc")
      .execute()) as Array<{
      instance_uuid: string;
      code: number;
      message: string;
      details: string | null;
      created_at: string;
    }>;
    for (const r of rows)
      out.set(r.instance_uuid, {
        code: Number(r.code),
        message: r.message,
        details: r.details,
        created_at: r.created_at,
      });
  }
  return out;
}
