// GET /servers/{id}/diagnostics (admin): what the fake driver can say about a running guest, built from the
// instance row. Before 2.48 a driver-specific dict (in the style of the libvirt driver's), from 2.48 Nova's
// standard format. The fake driver does no I/O, so counters are 0.
import { route, type Route } from "../../../shared/http/route.js";
import type { RuleDefault } from "../../../shared/policy/index.js";
import type { ComputeCore } from "../../core.js";
import { conflict } from "../../errors.js";
import type { Instance } from "../../instances/store.js";
import type { Ctx } from "../common.js";
import { ADMIN, policyRule } from "../admin/util.js";
import { authorizedServer, needHost } from "../server-actions/common.js";

const RULE = "os_compute_api:os-server-diagnostics";

/** Policy defaults of server diagnostics. */
export const diagnosticsPolicies: RuleDefault[] = [
  policyRule(RULE, ADMIN, "Show a server's diagnostics.", "GET", "/servers/{server_id}/diagnostics"),
];

/** Nova's power state names (power_state.STATE_MAP). */
const POWER: Record<number, string> = {
  0: "pending",
  1: "running",
  3: "paused",
  4: "shutdown",
  6: "crashed",
  7: "suspended",
};

/** Whether the guest has a config drive ("True" in the row, as Nova stores it). */
const hasConfigDrive = (inst: Instance) => inst.config_drive === "True";

/** The guest's disks as the fake driver lays them out: root, then ephemeral, swap and config drive. */
function disks(inst: Instance): string[] {
  const out = ["vda"];
  const next = () => `vd${String.fromCharCode("a".charCodeAt(0) + out.length)}`;
  if (inst.flavor.ephemeral_gb > 0) out.push(next());
  if (inst.flavor.swap > 0) out.push(next());
  if (hasConfigDrive(inst)) out.push(next());
  return out;
}

/** MAC addresses of the guest's ports, in address order. */
function macs(inst: Instance): string[] {
  const out: string[] = [];
  for (const addrs of Object.values(inst.addresses ?? {}))
    for (const a of addrs) {
      const mac = a["OS-EXT-IPS-MAC:mac_addr"];
      if (typeof mac === "string" && !out.includes(mac)) out.push(mac);
    }
  return out;
}

function uptime(inst: Instance): number | null {
  const t = inst.launched_at ? Date.parse(inst.launched_at) : NaN;
  return Number.isNaN(t) ? null : Math.max(0, Math.floor((Date.now() - t) / 1000));
}

/** The pre-2.48 dict: per vCPU time, memory in KiB, per disk and NIC counters. */
function legacyView(inst: Instance): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < inst.vcpus; i++) out[`cpu${i}_time`] = 0;
  out.memory = inst.memory_mb * 1024;
  for (const d of disks(inst))
    Object.assign(out, {
      [`${d}_read`]: 0,
      [`${d}_read_req`]: 0,
      [`${d}_write`]: 0,
      [`${d}_write_req`]: 0,
      [`${d}_errors`]: 0,
    });
  macs(inst).forEach((_, i) => {
    for (const k of ["rx", "rx_drop", "rx_errors", "rx_packets", "tx", "tx_drop", "tx_errors", "tx_packets"])
      out[`tap${i}_${k}`] = 0;
  });
  return out;
}

/** The 2.48 standard diagnostics. */
function standardView(inst: Instance, hypervisor: string | null): Record<string, unknown> {
  const nics = macs(inst);
  const ds = disks(inst);
  return {
    state: POWER[inst.power_state] ?? "pending",
    // Nova's schema knows real drivers only; its own fake driver reports libvirt, as this one does.
    driver: "libvirt",
    hypervisor,
    hypervisor_os: null,
    uptime: uptime(inst),
    config_drive: hasConfigDrive(inst),
    num_cpus: inst.vcpus,
    num_nics: nics.length,
    num_disks: ds.length,
    memory_details: { maximum: inst.memory_mb, used: 0 },
    cpu_details: Array.from({ length: inst.vcpus }, (_, id) => ({ id, time: 0, utilisation: null })),
    nic_details: nics.map((mac_address) => ({
      mac_address,
      rx_octets: 0,
      rx_errors: 0,
      rx_drop: 0,
      rx_packets: 0,
      rx_rate: null,
      tx_octets: 0,
      tx_errors: 0,
      tx_drop: 0,
      tx_packets: 0,
      tx_rate: null,
    })),
    disk_details: ds.map(() => ({
      read_bytes: 0,
      read_requests: 0,
      write_bytes: 0,
      write_requests: 0,
      errors_count: 0,
    })),
  };
}

/** GET /servers/{id}/diagnostics. */
export function diagnosticsRoutes(core: ComputeCore): Route[] {
  return [
    route({
      method: "GET",
      path: "/v2.1/servers/:id/diagnostics",
      policy: null,
      auth: "required",
      handler: async (ctx: Ctx) => {
        const inst = await authorizedServer(core, ctx, ctx.params.id, RULE);
        const host = needHost(inst);
        if (inst.power_state !== 1)
          throw conflict(
            `Cannot 'get_diagnostics' instance ${inst.uuid} while it is in power state ${POWER[inst.power_state] ?? "pending"}`,
          );
        if (ctx.microversion.lt("2.48")) return legacyView(inst);
        const node = (await core.db
          .selectFrom("compute_node")
          .select("hypervisor_type")
          .where("host", "=", host)
          .executeTakeFirst()) as { hypervisor_type: string } | undefined;
        return standardView(inst, node?.hypervisor_type ?? null);
      },
    }),
  ];
}
