// Typed calls for the Admin pages' per-project quotas (compute, network, volume) and every project's images,
// volumes and networks (all_tenants lists).
import type { Api } from "./client.js";
import type { Image, Network } from "./resources.js";
import type { Volume } from "./volumes.js";

/** The services whose quotas the Quotas page edits. */
export type QuotaService = "compute" | "network" | "volume";

/** The limits each service's quota form edits: key and label, in order. */
export const QUOTA_FIELDS: Record<QuotaService, ReadonlyArray<readonly [string, string]>> = {
  compute: [
    ["instances", "Instances"],
    ["cores", "vCPUs"],
    ["ram", "RAM (MiB)"],
    ["key_pairs", "Key pairs"],
    ["metadata_items", "Metadata items"],
    ["server_groups", "Server groups"],
    ["server_group_members", "Server group members"],
  ],
  network: [
    ["network", "Networks"],
    ["subnet", "Subnets"],
    ["port", "Ports"],
    ["router", "Routers"],
    ["floatingip", "Floating IPs"],
    ["security_group", "Security groups"],
    ["security_group_rule", "Security group rules"],
  ],
  volume: [
    ["volumes", "Volumes"],
    ["snapshots", "Volume snapshots"],
    ["gigabytes", "Volume storage (GiB)"],
    ["backups", "Backups"],
    ["backup_gigabytes", "Backup storage (GiB)"],
  ],
};

/** One project's limits of a service, by key (-1 is unlimited). */
export type QuotaSet = Map<string, number>;

/** A volume of any project. */
export interface AdminVolume extends Volume {
  "os-vol-tenant-attr:tenant_id"?: string;
  "os-vol-host-attr:host"?: string | null;
}

const q = (s: string) => encodeURIComponent(s);

/** Where each service keeps a project's quota, and the body's wrapper key. */
const QUOTA_AT: Record<QuotaService, { service: string; path: (p: string) => string; key: string }> = {
  compute: { service: "compute", path: (p) => `/os-quota-sets/${q(p)}`, key: "quota_set" },
  network: { service: "network", path: (p) => `/v2.0/quotas/${q(p)}`, key: "quota" },
  volume: { service: "block-storage", path: (p) => `/os-quota-sets/${q(p)}`, key: "quota_set" },
};

/** Keep the fields the form edits, as numbers. */
function pick(svc: QuotaService, body: Record<string, unknown>): QuotaSet {
  const out: QuotaSet = new Map();
  for (const [k] of QUOTA_FIELDS[svc]) {
    const v = body[k];
    if (typeof v === "number") out.set(k, v);
  }
  return out;
}

/** The admin quota and all-project list calls, bound to one Api. */
export function adminResourceCalls(api: Api) {
  return {
    /** Whether the cloud has the service a quota lives in. */
    hasQuota: (svc: QuotaService) => api.has(QUOTA_AT[svc].service),
    quota: async (svc: QuotaService, project: string): Promise<QuotaSet> => {
      const at = QUOTA_AT[svc];
      return pick(svc, (await api.get(at.service, at.path(project)))[at.key]);
    },
    setQuota: async (svc: QuotaService, project: string, limits: QuotaSet): Promise<QuotaSet> => {
      const at = QUOTA_AT[svc];
      const body = { [at.key]: Object.fromEntries(limits) };
      return pick(svc, (await api.put(at.service, at.path(project), body))[at.key]);
    },
    allImages: async (): Promise<Image[]> => (await api.get("image", "/v2/images?limit=1000")).images,
    allVolumes: async (): Promise<AdminVolume[]> =>
      (await api.get("block-storage", "/volumes/detail?all_tenants=1")).volumes,
    allNetworks: async (): Promise<Network[]> => (await api.get("network", "/v2.0/networks")).networks,
  };
}

/** The admin quota and list calls' type. */
export type AdminResourceCalls = ReturnType<typeof adminResourceCalls>;
