// Host weighers: each gives every host a raw score; scores are normalised to 0..1 across the hosts (all equal
// gives 0), multiplied by the weigher's multiplier and summed. The highest total wins; ties go by host name.
import type { Config } from "../../shared/config.js";
import { groupMembersOn } from "./filters.js";
import type { HostState, HostWeigher, ScheduleRequest } from "./types.js";

/** Free RAM; a positive multiplier spreads servers, a negative one packs them. */
export function ramWeigher(cfg: Config): HostWeigher {
  return {
    name: "RAMWeigher",
    multiplier: () => cfg.compute.scheduler.ramWeightMultiplier,
    weigh: (h) => h.memoryMbTotal - h.memoryMbUsed,
  };
}

/** Free VCPUs. */
export function cpuWeigher(cfg: Config): HostWeigher {
  return {
    name: "CPUWeigher",
    multiplier: () => cfg.compute.scheduler.cpuWeightMultiplier,
    weigh: (h) => h.vcpusTotal - h.vcpusUsed,
  };
}

/** Free disk. */
export function diskWeigher(cfg: Config): HostWeigher {
  return {
    name: "DiskWeigher",
    multiplier: () => cfg.compute.scheduler.diskWeightMultiplier,
    weigh: (h) => h.diskGbTotal - h.diskGbUsed,
  };
}

/** Soft affinity: prefer hosts that already run members of the group. */
export const ServerGroupSoftAffinityWeigher: HostWeigher = {
  name: "ServerGroupSoftAffinityWeigher",
  multiplier: () => 1,
  weigh: (h, req) => (req.group?.policy === "soft-affinity" ? groupMembersOn(h, req) : 0),
};

/** Soft anti-affinity: prefer hosts that run fewer members of the group. */
export const ServerGroupSoftAntiAffinityWeigher: HostWeigher = {
  name: "ServerGroupSoftAntiAffinityWeigher",
  multiplier: () => 1,
  weigh: (h, req) => (req.group?.policy === "soft-anti-affinity" ? -groupMembersOn(h, req) : 0),
};

/** The weighers the scheduler uses. */
export function defaultWeighers(cfg: Config): HostWeigher[] {
  return [
    ramWeigher(cfg),
    cpuWeigher(cfg),
    diskWeigher(cfg),
    ServerGroupSoftAffinityWeigher,
    ServerGroupSoftAntiAffinityWeigher,
  ];
}

/** Scale raw scores to 0..1 (min → 0, max → 1); all equal → all 0. */
export function normalise(raw: number[]): number[] {
  if (raw.length === 0) return [];
  const min = Math.min(...raw);
  const max = Math.max(...raw);
  return max === min ? raw.map(() => 0) : raw.map((v) => (v - min) / (max - min));
}

/** A host with its total weight. */
export interface WeighedHost {
  host: HostState;
  weight: number;
}

/** Weigh the hosts and sort them best first (ties broken by host name, then node). */
export function weighHosts(hosts: HostState[], req: ScheduleRequest, weighers: HostWeigher[]): WeighedHost[] {
  const totals = hosts.map(() => 0);
  for (const w of weighers) {
    const m = w.multiplier();
    if (m === 0) continue;
    normalise(hosts.map((h) => w.weigh(h, req))).forEach((v, i) => (totals[i] += m * v));
  }
  return hosts
    .map((host, i) => ({ host, weight: totals[i] }))
    .sort((a, b) => b.weight - a.weight || cmp(a.host.host, b.host.host) || cmp(a.host.node, b.host.node));
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
