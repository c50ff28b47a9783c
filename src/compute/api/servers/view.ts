// The server representation, per microversion (Nova's views/servers.py): brief {id, name, links} for lists and
// the full detail for show/detail/update/rebuild. Lists load metadata, tags, faults and host states in batches.
import { createHash } from "node:crypto";
import type { Kysely } from "kysely";
import { fromDbBool } from "../../../shared/db/index.js";
import type { ComputeCore } from "../../core.js";
import { latestFaults, type Instance } from "../../instances/store.js";
import { serverStatus } from "../../instances/states.js";
import { listServices, serviceIsUp } from "../../servicegroup.js";
import { isAdmin, type Ctx } from "../common.js";

/** Nova's hostId: an opaque per-project hash of the host name ("" when unscheduled). */
export function hostId(projectId: string, host: string | null): string {
  return host
    ? createHash("sha224")
        .update(projectId + host)
        .digest("hex")
    : "";
}

/** Nova's launched_at/terminated_at format: no zone, microseconds ("2026-11-24T19:07:43.450000"). */
export function usecTime(iso: string | null): string | null {
  if (!iso) return null;
  const m = /^(.*T\d\d:\d\d:\d\d)(?:\.(\d+))?/.exec(iso);
  return m ? `${m[1]}.${(m[2] ?? "").padEnd(6, "0").slice(0, 6)}` : iso;
}

/** Links of a server (self under /v2.1, bookmark without the version). */
export function serverLinks(ctx: Ctx, uuid: string) {
  return [
    { rel: "self", href: `${ctx.serviceUrl}/v2.1/servers/${uuid}` },
    { rel: "bookmark", href: `${ctx.serviceUrl}/servers/${uuid}` },
  ];
}

/** Brief view (list without detail). */
export function briefView(ctx: Ctx, inst: Instance): Record<string, unknown> {
  return { id: inst.uuid, links: serverLinks(ctx, inst.uuid), name: inst.display_name };
}

/** What the detail view needs besides the row, loaded once per page. */
export interface ViewExtras {
  metadata: Map<string, Record<string, string>>;
  tags: Map<string, string[]>;
  faults: Awaited<ReturnType<typeof latestFaults>>;
  /** host → "UP" | "DOWN" | "MAINTENANCE" | "UNKNOWN" (2.16 host_status). */
  hostStatus: Map<string, string>;
  groups: Map<string, string[]>;
  /** The volumes attached to each server (its block device mappings with a volume), boot volume first. */
  volumes: Map<string, Array<{ id: string; delete_on_termination: boolean }>>;
}

async function byInstance(
  db: Kysely<any>,
  table: string,
  cols: string[],
  uuids: string[],
): Promise<Array<Record<string, string>>> {
  const out: Array<Record<string, string>> = [];
  for (let i = 0; i < uuids.length; i += 500) {
    const rows = (await db
      .selectFrom(table)
      .select(cols)
      .where(
        table === "compute_server_group_member" ? "instance_uuid" : "instance_uuid",
        "in",
        uuids.slice(i, i + 500),
      )
      .execute()) as Array<Record<string, string>>;
    out.push(...rows);
  }
  return out;
}

/** Load metadata, tags, faults and host states for a page of instances. */
export async function loadExtras(core: ComputeCore, ctx: Ctx, insts: Instance[]): Promise<ViewExtras> {
  const uuids = insts.map((i) => i.uuid);
  const metadata = new Map<string, Record<string, string>>();
  const tags = new Map<string, string[]>();
  const groups = new Map<string, string[]>();
  for (const r of await byInstance(
    core.db,
    "compute_instance_metadata",
    ["instance_uuid", "meta_key", "value"],
    uuids,
  ))
    (metadata.get(r.instance_uuid) ?? metadata.set(r.instance_uuid, {}).get(r.instance_uuid)!)[r.meta_key] =
      r.value;
  if (ctx.microversion.gte("2.26"))
    for (const r of await byInstance(core.db, "compute_instance_tag", ["instance_uuid", "tag"], uuids))
      (tags.get(r.instance_uuid) ?? tags.set(r.instance_uuid, []).get(r.instance_uuid)!).push(r.tag);
  if (ctx.microversion.gte("2.71"))
    for (const r of await byInstance(
      core.db,
      "compute_server_group_member",
      ["instance_uuid", "group_uuid"],
      uuids,
    ))
      (groups.get(r.instance_uuid) ?? groups.set(r.instance_uuid, []).get(r.instance_uuid)!).push(
        r.group_uuid,
      );
  const failed = insts.filter((i) => i.vm_state === "error" || i.vm_state === "deleted").map((i) => i.uuid);
  const faults = await latestFaults(core.db, failed);
  const hostStatus = new Map<string, string>();
  if (ctx.microversion.gte("2.16") && isAdmin(ctx)) {
    for (const s of await listServices(core.db, "nova-compute"))
      hostStatus.set(
        s.host,
        s.forced_down || !serviceIsUp(s, core.cfg) ? "DOWN" : s.disabled ? "MAINTENANCE" : "UP",
      );
  }
  const volumes = new Map<string, Array<{ id: string; delete_on_termination: boolean }>>();
  const bdms = (
    await byInstance(
      core.db,
      "compute_block_device_mapping",
      ["instance_uuid", "volume_id", "delete_on_termination", "boot_index", "created_at"],
      uuids,
    )
  )
    .filter((r) => r.volume_id)
    .sort(
      (a, b) =>
        Number(a.boot_index ?? 1000) - Number(b.boot_index ?? 1000) ||
        a.created_at.localeCompare(b.created_at),
    );
  for (const r of bdms)
    (volumes.get(r.instance_uuid) ?? volumes.set(r.instance_uuid, []).get(r.instance_uuid)!).push({
      id: r.volume_id,
      delete_on_termination: fromDbBool(r.delete_on_termination as unknown as number),
    });
  return { metadata, tags, faults, hostStatus, groups, volumes };
}

function flavorView(ctx: Ctx, inst: Instance): Record<string, unknown> {
  const f = inst.flavor;
  if (!ctx.microversion.gte("2.47"))
    return {
      id: f.flavorid,
      links: [{ rel: "bookmark", href: `${ctx.serviceUrl}/flavors/${encodeURIComponent(f.flavorid)}` }],
    };
  const out: Record<string, unknown> = {
    vcpus: f.vcpus,
    ram: f.memory_mb,
    disk: f.root_gb,
    ephemeral: f.ephemeral_gb,
    swap: f.swap,
    original_name: f.name,
  };
  if (ctx.allowed("os_compute_api:os-flavor-extra-specs:index", { project_id: inst.project_id }))
    out.extra_specs = f.extra_specs;
  return out;
}

/** Fields update and rebuild responses leave out before 2.75 (Nova showed them only from then on). */
const NOT_IN_UPDATE_BEFORE_275 = [
  "OS-EXT-AZ:availability_zone",
  "config_drive",
  "key_name",
  "OS-SRV-USG:launched_at",
  "OS-SRV-USG:terminated_at",
  "OS-EXT-STS:task_state",
  "OS-EXT-STS:vm_state",
  "OS-EXT-STS:power_state",
  "os-extended-volumes:volumes_attached",
  "security_groups",
  "host_status",
];

/** Full detail of one server. */
export function detailView(
  ctx: Ctx,
  inst: Instance,
  x: ViewExtras,
  opts: { show?: boolean; update?: boolean } = {},
) {
  const mv = ctx.microversion;
  const admin = isAdmin(ctx);
  const status = serverStatus(inst.vm_state, inst.task_state);
  const out: Record<string, unknown> = {
    id: inst.uuid,
    name: inst.display_name,
    status,
    tenant_id: inst.project_id,
    user_id: inst.user_id,
    metadata: x.metadata.get(inst.uuid) ?? {},
    hostId: hostId(inst.project_id, inst.host),
    image: inst.image_ref
      ? {
          id: inst.image_ref,
          links: [{ rel: "bookmark", href: `${ctx.serviceUrl}/images/${inst.image_ref}` }],
        }
      : "",
    flavor: flavorView(ctx, inst),
    created: inst.created_at.replace(/\.\d+Z$/, "Z"),
    updated: (inst.updated_at ?? inst.created_at).replace(/\.\d+Z$/, "Z"),
    addresses: inst.addresses,
    accessIPv4: inst.access_ip_v4 ?? "",
    accessIPv6: inst.access_ip_v6 ?? "",
    links: serverLinks(ctx, inst.uuid),
    "OS-DCF:diskConfig": (inst.system_metadata.disk_config as string | undefined) ?? "MANUAL",
    "OS-EXT-AZ:availability_zone": inst.availability_zone ?? "",
    config_drive: inst.config_drive,
    key_name: inst.key_name,
    "OS-SRV-USG:launched_at": usecTime(inst.launched_at),
    "OS-SRV-USG:terminated_at": usecTime(inst.terminated_at),
    "OS-EXT-STS:task_state": inst.task_state,
    "OS-EXT-STS:vm_state": inst.vm_state,
    "OS-EXT-STS:power_state": inst.power_state,
    // delete_on_termination is shown from 2.3.
    "os-extended-volumes:volumes_attached": (x.volumes.get(inst.uuid) ?? []).map((v) =>
      mv.gte("2.3") ? v : { id: v.id },
    ),
  };
  if (status === "BUILD" || status === "ACTIVE" || status.includes("RESIZE") || status === "MIGRATING")
    out.progress = inst.progress;
  if (inst.security_groups.length) out.security_groups = inst.security_groups.map((g) => ({ name: g.name }));
  const fault = x.faults.get(inst.uuid);
  if (fault && (status === "ERROR" || status === "DELETED")) {
    const f: Record<string, unknown> = {
      code: fault.code,
      created: fault.created_at.replace(/\.\d+Z$/, "Z"),
      message: fault.message,
    };
    if (admin || fault.code !== 500) f.details = fault.details ?? "";
    out.fault = f;
  }
  if (admin) {
    out["OS-EXT-SRV-ATTR:host"] = inst.host;
    out["OS-EXT-SRV-ATTR:hypervisor_hostname"] = inst.node;
    out["OS-EXT-SRV-ATTR:instance_name"] = `instance-${inst.id.toString(16).padStart(8, "0")}`;
  }
  if (mv.gte("2.3") && admin) {
    out["OS-EXT-SRV-ATTR:reservation_id"] = inst.reservation_id;
    out["OS-EXT-SRV-ATTR:launch_index"] = inst.launch_index;
    out["OS-EXT-SRV-ATTR:hostname"] = inst.hostname;
    out["OS-EXT-SRV-ATTR:kernel_id"] = "";
    out["OS-EXT-SRV-ATTR:ramdisk_id"] = "";
    out["OS-EXT-SRV-ATTR:root_device_name"] = "/dev/vda";
    out["OS-EXT-SRV-ATTR:user_data"] = inst.user_data;
  }
  if (mv.gte("2.90") && !admin) out["OS-EXT-SRV-ATTR:hostname"] = inst.hostname;
  if (mv.gte("2.9")) out.locked = inst.locked;
  if (mv.gte("2.73")) out.locked_reason = inst.locked_reason;
  if (mv.gte("2.16") && admin) out.host_status = inst.host ? (x.hostStatus.get(inst.host) ?? "UNKNOWN") : "";
  if (mv.gte("2.19")) out.description = inst.description;
  if (mv.gte("2.26")) out.tags = x.tags.get(inst.uuid) ?? [];
  if (mv.gte("2.63")) out.trusted_image_certificates = null;
  if (mv.gte("2.71") && opts.show) out.server_groups = x.groups.get(inst.uuid) ?? [];
  if (opts.update && mv.lt("2.75")) {
    for (const k of NOT_IN_UPDATE_BEFORE_275) delete out[k];
    for (const k of Object.keys(out)) if (k.startsWith("OS-EXT-SRV-ATTR:")) delete out[k];
    // Nova's plain addresses there (extend_address=False): no OS-EXT-IPS type or MAC.
    const addrs = out.addresses as Record<string, Array<{ addr: unknown; version: unknown }>>;
    out.addresses = Object.fromEntries(
      Object.entries(addrs).map(([n, l]) => [n, l.map((a) => ({ addr: a.addr, version: a.version }))]),
    );
  }
  return out;
}

/**
 * Detail view of one server, loading its extras: for show, or (update: true) for the update and rebuild
 * responses, which carry fewer fields before 2.75.
 */
export async function serverView(
  core: ComputeCore,
  ctx: Ctx,
  inst: Instance,
  opts: { detail?: true; update?: boolean } = {},
): Promise<Record<string, unknown>> {
  return detailView(ctx, inst, await loadExtras(core, ctx, [inst]), { show: true, update: opts.update });
}
