// Typed calls for the Admin pages' compute side: usage per project, hypervisors, compute services, flavors with
// their access lists, and every project's servers (admin policy; the pinned microversion is 2.79).
import type { Api } from "./client.js";
import type { Flavor, Server } from "./resources.js";

/** One project's usage over a period (os-simple-tenant-usage). */
export interface TenantUsage {
  tenant_id: string;
  total_vcpus_usage: number;
  total_memory_mb_usage: number;
  total_local_gb_usage: number;
  total_hours: number;
}

/** A hypervisor (compute node) with its usage, as 2.79 shows it in detail. */
export interface Hypervisor {
  id: string;
  hypervisor_hostname: string;
  hypervisor_type: string;
  state: string;
  status: string;
  vcpus: number;
  vcpus_used: number;
  memory_mb: number;
  memory_mb_used: number;
  local_gb: number;
  local_gb_used: number;
  running_vms: number;
}

/** A compute service (nova-compute, nova-scheduler...); `id` is its UUID from 2.53. */
export interface ComputeService {
  id: string;
  binary: string;
  host: string;
  zone: string;
  status: "enabled" | "disabled";
  state: "up" | "down";
  disabled_reason: string | null;
  updated_at: string | null;
}

/** A flavor as the Admin page shows it (with its visibility). */
export interface AdminFlavor extends Flavor {
  "os-flavor-access:is_public": boolean;
}

/** What the create flavor dialog sends. */
export interface NewFlavor {
  name: string;
  id?: string;
  vcpus: number;
  ram: number;
  disk: number;
  isPublic: boolean;
}

/** A server of any project, with the admin-only attributes the list shows. */
export interface AdminServer extends Server {
  tenant_id: string;
  "OS-EXT-SRV-ATTR:host"?: string | null;
}

const q = (s: string) => encodeURIComponent(s);
const C = "compute";

/** Nova's timestamp format for usage queries (UTC, no zone suffix). */
export const novaTime = (d: Date) => d.toISOString().slice(0, 19);

/** The admin compute calls, bound to one Api. */
export function adminComputeCalls(api: Api) {
  return {
    usage: async (start: Date, end: Date): Promise<TenantUsage[]> =>
      (await api.get(C, `/os-simple-tenant-usage?start=${novaTime(start)}&end=${novaTime(end)}`))
        .tenant_usages,
    hypervisors: async (): Promise<Hypervisor[]> => (await api.get(C, "/os-hypervisors/detail")).hypervisors,
    services: async (): Promise<ComputeService[]> => (await api.get(C, "/os-services")).services,
    /** Enable a service, or disable it with the reason operators see. */
    setService: async (id: string, enabled: boolean, reason?: string): Promise<ComputeService> =>
      (
        await api.put(
          C,
          `/os-services/${q(id)}`,
          enabled ? { status: "enabled" } : { status: "disabled", disabled_reason: reason },
        )
      ).service,
    flavors: async (): Promise<AdminFlavor[]> => (await api.get(C, "/flavors/detail?is_public=None")).flavors,
    createFlavor: async (f: NewFlavor): Promise<AdminFlavor> => {
      const flavor: Record<string, unknown> = {
        name: f.name,
        vcpus: f.vcpus,
        ram: f.ram,
        disk: f.disk,
        "os-flavor-access:is_public": f.isPublic,
      };
      if (f.id) flavor.id = f.id;
      return (await api.post(C, "/flavors", { flavor })).flavor;
    },
    deleteFlavor: (id: string) => api.del(C, `/flavors/${q(id)}`),
    /** The projects a private flavor is shared with. */
    flavorAccess: async (id: string): Promise<string[]> =>
      (
        (await api.get(C, `/flavors/${q(id)}/os-flavor-access`)).flavor_access as Array<{ tenant_id: string }>
      ).map((a) => a.tenant_id),
    setFlavorAccess: (id: string, project: string, grant: boolean): Promise<unknown> =>
      api.post(C, `/flavors/${q(id)}/action`, {
        [grant ? "addTenantAccess" : "removeTenantAccess"]: { tenant: project },
      }),
    allServers: async (): Promise<AdminServer[]> =>
      (await api.get(C, "/servers/detail?all_tenants=1")).servers,
  };
}

/** The admin compute calls' type. */
export type AdminComputeCalls = ReturnType<typeof adminComputeCalls>;
