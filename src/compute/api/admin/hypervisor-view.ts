// The hypervisor view of os-hypervisors: compute node rows, their services, and Nova's field set per
// microversion (statistics fields before 2.88, uptime from 2.88).
import { loadavg, uptime } from "node:os";
import type { ComputeCore } from "../../core.js";
import { notFound } from "../../errors.js";
import { listServices, serviceIsUp, type ServiceRow } from "../../servicegroup.js";
import type { Ctx } from "../common.js";
import { instanceName } from "./util.js";

/** A compute_node row with numbers as numbers. */
export interface NodeRow {
  id: number;
  uuid: string;
  host: string;
  hypervisor_hostname: string;
  hypervisor_type: string;
  hypervisor_version: number;
  host_ip: string | null;
  vcpus: number;
  memory_mb: number;
  local_gb: number;
  vcpus_used: number;
  memory_mb_used: number;
  local_gb_used: number;
  running_vms: number;
  cpu_info: string;
}

const NUMERIC =
  "id hypervisor_version vcpus memory_mb local_gb vcpus_used memory_mb_used local_gb_used running_vms";

function parseNode(r: Record<string, unknown>): NodeRow {
  const out = { ...r } as Record<string, unknown>;
  for (const k of NUMERIC.split(" ")) out[k] = Number(r[k]);
  return out as unknown as NodeRow;
}

/** The uptime line of this machine, in the format of uptime(1). */
export function uptimeLine(): string {
  const t = new Date().toISOString().slice(11, 19);
  const up = Math.floor(uptime() / 60);
  const days = Math.floor(up / 1440);
  const hm = up % 1440;
  const clock = hm >= 60 ? `${Math.floor(hm / 60)}:${String(hm % 60).padStart(2, "0")}` : `${hm} min`;
  const load = loadavg()
    .map((l) => l.toFixed(2))
    .join(", ");
  return ` ${t} up ${days ? `${days} day${days === 1 ? "" : "s"}, ` : ""}${clock},  0 users,  load average: ${load}`;
}

/** Everything a hypervisor view needs, loaded once per request. */
export interface Loaded {
  nodes: NodeRow[];
  services: Map<string, ServiceRow>;
  workload: Map<string, number>;
}

/** Nodes by id, nova-compute services by host, and busy instances per node. */
export async function load(core: ComputeCore): Promise<Loaded> {
  const rows = await core.db.selectFrom("compute_node").selectAll().orderBy("id").execute();
  const services = new Map<string, ServiceRow>();
  for (const s of await listServices(core.db, "nova-compute")) services.set(s.host, s);
  const busy = (await core.db
    .selectFrom("compute_instance")
    .select(["host", "node"])
    .where("deleted", "=", 0)
    .where("task_state", "is not", null)
    .execute()) as Array<{ host: string | null; node: string | null }>;
  const workload = new Map<string, number>();
  for (const b of busy) workload.set(`${b.host}/${b.node}`, (workload.get(`${b.host}/${b.node}`) ?? 0) + 1);
  return { nodes: rows.map(parseNode), services, workload };
}

/** The servers on a host as the hypervisor views list them. */
export async function serversOn(core: ComputeCore, host: string) {
  const rows = (await core.db
    .selectFrom("compute_instance")
    .select(["id", "uuid"])
    .where("host", "=", host)
    .where("deleted", "=", 0)
    .orderBy("id")
    .execute()) as Array<{ id: number; uuid: string }>;
  return rows.map((r) => ({ name: instanceName(Number(r.id)), uuid: r.uuid }));
}

/** Nova's hypervisor body for a node and its service. */
export function view(
  core: ComputeCore,
  ctx: Ctx,
  l: Loaded,
  n: NodeRow,
  s: ServiceRow,
  o: { detail: boolean; servers?: Array<{ name: string; uuid: string }>; withServers?: boolean },
) {
  const mv = ctx.microversion;
  const up = serviceIsUp(s, core.cfg);
  const out: Record<string, unknown> = {
    id: mv.gte("2.53") ? n.uuid : n.id,
    hypervisor_hostname: n.hypervisor_hostname,
    state: up ? "up" : "down",
    status: s.disabled ? "disabled" : "enabled",
  };
  if (o.detail) {
    Object.assign(out, {
      hypervisor_type: n.hypervisor_type,
      hypervisor_version: n.hypervisor_version,
      host_ip: n.host_ip,
      service: { id: mv.gte("2.53") ? s.uuid : s.id, host: n.host, disabled_reason: s.disabled_reason },
    });
    if (mv.lt("2.88")) {
      const freeDisk = n.local_gb - n.local_gb_used;
      Object.assign(out, {
        vcpus: n.vcpus,
        memory_mb: n.memory_mb,
        local_gb: n.local_gb,
        vcpus_used: n.vcpus_used,
        memory_mb_used: n.memory_mb_used,
        local_gb_used: n.local_gb_used,
        free_ram_mb: n.memory_mb - n.memory_mb_used,
        free_disk_gb: freeDisk,
        current_workload: l.workload.get(`${n.host}/${n.hypervisor_hostname}`) ?? 0,
        running_vms: n.running_vms,
        disk_available_least: freeDisk,
      });
      if (mv.gte("2.28")) {
        let info: unknown = {};
        try {
          info = n.cpu_info ? JSON.parse(n.cpu_info) : {};
        } catch {
          info = {};
        }
        out.cpu_info = info;
      } else out.cpu_info = n.cpu_info;
    } else out.uptime = up ? uptimeLine() : null;
  }
  if (o.servers && o.servers.length) out.servers = o.servers;
  else if (o.withServers && mv.gte("2.75")) out.servers = [];
  return out;
}

/** Nodes whose hypervisor_hostname matches a pattern as SQL LIKE '%pattern%' would (case-insensitive). */
export function matching(nodes: NodeRow[], pattern: string): NodeRow[] {
  const body = pattern
    .replace(/[.*+?^${}()|[\]\\]/g, "\\$&")
    .replace(/_/g, ".")
    .replace(/%/g, ".*");
  const re = new RegExp(body, "i");
  const found = nodes.filter((n) => re.test(n.hypervisor_hostname));
  if (!found.length) throw notFound(`No hypervisor matching '${pattern}' could be found.`);
  return found;
}
