// Host filters: each looks at one host and the request, and either passes it or says in plain words why not.
// Reasons are verb phrases in the singular past ("was disabled", "lacked ..."), so explanations can count them.
import { matchesSpec, type SpecValue } from "./spec-ops.js";
import type { HostFilter, HostState, ScheduleRequest } from "./types.js";

/** How many other members of the request's server group are on this host. */
export function groupMembersOn(host: HostState, req: ScheduleRequest): number {
  const g = req.group;
  if (!g) return 0;
  const byMembers = (g.members ?? []).filter((u) => u !== req.instanceUuid && host.instances.has(u)).length;
  const byHosts = g.hosts.filter((h) => h === host.host).length;
  return Math.max(byMembers, byHosts);
}

/** The host must be in the requested availability zone. */
export const AvailabilityZoneFilter: HostFilter = {
  name: "AvailabilityZoneFilter",
  check(host, req) {
    const az = req.spec.availabilityZone;
    return !az || host.availabilityZone === az ? true : `was not in availability zone '${az}'`;
  },
};

/** The host's nova-compute service must be enabled and up. */
export const ComputeFilter: HostFilter = {
  name: "ComputeFilter",
  check(host) {
    if (!host.enabled) return "was disabled";
    if (!host.up) return "was down";
    return true;
  },
};

const ARCH_ALIASES = new Map([
  ["amd64", "x86_64"],
  ["x64", "x86_64"],
  ["x86-64", "x86_64"],
  ["i386", "i686"],
  ["i486", "i686"],
  ["i586", "i686"],
  ["x86", "i686"],
  ["arm64", "aarch64"],
  ["ppc64el", "ppc64le"],
]);

const canonicalArch = (a: string) => ARCH_ALIASES.get(a.toLowerCase()) ?? a.toLowerCase();

/** `obj[key]` when `key` is the object's own (user-chosen keys: never a prototype member). */
const ownValue = <T>(obj: Record<string, T>, key: string): T | undefined =>
  Object.hasOwn(obj, key) ? obj[key] : undefined;

/** Nova's hypervisor version encoding from "6.2.0" (or a plain integer as is). */
export function versionToInt(v: string): number | null {
  const t = v.trim();
  if (/^\d+$/.test(t)) return Number(t) < 1000 ? Number(t) * 1_000_000 : Number(t);
  if (!/^\d+(\.\d+){1,2}$/.test(t)) return null;
  const [a, b, c] = t.split(".").map(Number);
  return a * 1_000_000 + (b ?? 0) * 1_000 + (c ?? 0);
}

function versionSatisfies(actual: number, spec: string): boolean {
  const m = /^\s*(>=|<=|==|!=|=|<|>)?\s*(\S+)\s*$/.exec(spec);
  const want = m ? versionToInt(m[2]) : null;
  if (!m || want === null) return false;
  const ops: Record<string, boolean> = {
    ">=": actual >= want,
    "<=": actual <= want,
    "<": actual < want,
    ">": actual > want,
    "!=": actual !== want,
  };
  return ops[m[1] ?? ""] ?? actual === want;
}

/** The image's architecture, hypervisor type and hypervisor version must suit the host. */
export const ImagePropertiesFilter: HostFilter = {
  name: "ImagePropertiesFilter",
  check(host, req) {
    const p = req.spec.image.properties ?? {};
    const arch = p.hw_architecture ?? p.architecture;
    if (arch && canonicalArch(arch) !== canonicalArch(host.cpuInfo.arch))
      return `did not support the image's architecture '${arch}'`;
    const hv = (p.img_hv_type ?? p.hypervisor_type)?.toLowerCase();
    const hostHv = host.hypervisorType.toLowerCase();
    if (hv && hv !== hostHv && !(hv === "qemu" && hostHv === "kvm"))
      return `did not run the image's hypervisor type '${hv}'`;
    const version = p.img_hv_requested_version;
    if (version && !versionSatisfies(host.hypervisorVersion, version))
      return `did not have the hypervisor version the image asks for (${version.trim()})`;
    return true;
  },
};

/** Hard affinity: once a member of the group is placed, every other member goes to that host. */
export const ServerGroupAffinityFilter: HostFilter = {
  name: "ServerGroupAffinityFilter",
  check(host, req) {
    const g = req.group;
    if (!g || g.policy !== "affinity" || g.hosts.length === 0) return true;
    return g.hosts.includes(host.host) ? true : "did not hold the other members of the affinity group";
  },
};

/** Hard anti-affinity: at most rules.max_server_per_host members of the group per host (default 1). */
export const ServerGroupAntiAffinityFilter: HostFilter = {
  name: "ServerGroupAntiAffinityFilter",
  check(host, req) {
    const g = req.group;
    if (!g || g.policy !== "anti-affinity") return true;
    const max = Number(g.rules?.max_server_per_host ?? 1) || 1;
    return groupMembersOn(host, req) < max
      ? true
      : `already held as many members of the anti-affinity group as allowed (${max})`;
  },
};

function hintList(v: unknown): string[] {
  if (typeof v === "string") return [v];
  return Array.isArray(v) ? v.map(String) : [];
}

/** Hint same_host: the host must run at least one of the named instances. */
export const SameHostFilter: HostFilter = {
  name: "SameHostFilter",
  check(host, req) {
    const uuids = hintList(req.spec.hints?.same_host);
    if (uuids.length === 0 || uuids.some((u) => host.instances.has(u))) return true;
    return "did not run any instance named in same_host";
  },
};

/** Hint different_host: the host must run none of the named instances. */
export const DifferentHostFilter: HostFilter = {
  name: "DifferentHostFilter",
  check(host, req) {
    const uuids = hintList(req.spec.hints?.different_host);
    return uuids.some((u) => host.instances.has(u)) ? "ran an instance named in different_host" : true;
  },
};

/** Aggregates with filter_tenant_id* metadata keep their hosts for the projects listed there. */
export const AggregateMultiTenancyIsolation: HostFilter = {
  name: "AggregateMultiTenancyIsolation",
  check(host, req) {
    const allowed = new Set<string>();
    for (const a of host.aggregates)
      for (const [k, v] of Object.entries(a.metadata))
        if (k.startsWith("filter_tenant_id")) for (const p of v.split(",")) allowed.add(p.trim());
    return allowed.size === 0 || allowed.has(req.projectId) ? true : "was reserved for other projects";
  },
};

function scopedSpecs(req: ScheduleRequest, scope: string): Array<[string, string]> {
  const prefix = `${scope}:`;
  return Object.entries(req.flavor.extra_specs ?? {})
    .filter(([k]) => k.startsWith(prefix))
    .map(([k, v]) => [k.slice(prefix.length), v]);
}

/** Flavor extra specs "aggregate_instance_extra_specs:KEY" must match metadata of one of the host's aggregates. */
export const AggregateInstanceExtraSpecsFilter: HostFilter = {
  name: "AggregateInstanceExtraSpecsFilter",
  check(host, req) {
    for (const [key, spec] of scopedSpecs(req, "aggregate_instance_extra_specs")) {
      const values = host.aggregates.flatMap((a) =>
        (ownValue(a.metadata, key)?.split(",") ?? []).map((v) => v.trim()),
      );
      if (!values.some((v) => matchesSpec(v, spec)))
        return `was in no aggregate with ${key} matching '${spec}'`;
    }
    return true;
  },
};

/** The host's values that "capabilities:KEY" extra specs can name. */
export function hostCapabilities(h: HostState): Record<string, SpecValue> {
  return {
    host: h.host,
    hypervisor_hostname: h.node,
    hypervisor_type: h.hypervisorType,
    hypervisor_version: h.hypervisorVersion,
    "cpu_info:arch": h.cpuInfo.arch,
    "cpu_info:model": h.cpuInfo.model,
    "cpu_info:vendor": h.cpuInfo.vendor,
    "cpu_info:features": h.cpuInfo.features,
    availability_zone: h.availabilityZone,
    vcpus_total: h.vcpusTotal,
    vcpus_used: h.vcpusUsed,
    total_usable_ram_mb: h.memoryMbTotal,
    free_ram_mb: h.memoryMbTotal - h.memoryMbUsed,
    total_usable_disk_gb: h.diskGbTotal,
    free_disk_mb: (h.diskGbTotal - h.diskGbUsed) * 1024,
    num_instances: h.numInstances ?? h.instances.size,
  };
}

/** Flavor extra specs "capabilities:KEY" must match the host's value of KEY. */
export const ComputeCapabilitiesFilter: HostFilter = {
  name: "ComputeCapabilitiesFilter",
  check(host, req) {
    const specs = scopedSpecs(req, "capabilities");
    if (specs.length === 0) return true;
    const caps = hostCapabilities(host);
    for (const [key, spec] of specs)
      if (!matchesSpec(ownValue(caps, key), spec)) return `had no capability ${key} matching '${spec}'`;
    return true;
  },
};

/** The filters the scheduler runs, in order (cheap and common first). */
export function defaultFilters(): HostFilter[] {
  return [
    ComputeFilter,
    AvailabilityZoneFilter,
    ImagePropertiesFilter,
    ServerGroupAntiAffinityFilter,
    ServerGroupAffinityFilter,
    SameHostFilter,
    DifferentHostFilter,
    AggregateMultiTenancyIsolation,
    AggregateInstanceExtraSpecsFilter,
    ComputeCapabilitiesFilter,
  ];
}

/** The first filter a host fails, as a plain-words reason; null when it passes them all. */
export function firstFailure(filters: HostFilter[], host: HostState, req: ScheduleRequest): string | null {
  for (const f of filters) {
    const r = f.check(host, req);
    if (r !== true) return r;
  }
  return null;
}
