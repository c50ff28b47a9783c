// The scheduler step (Cinder's filter scheduler, reduced to its capacity and zone filters and the capacity
// weigher): of the volume agents that are up, enabled, in the zone and have room, pick the one with the most free
// space. It only picks; the API records the host and casts the work to it.
import { capabilitiesMatch, poolCapabilities } from "./capabilities.js";
import type { VolumeCore } from "./core.js";
import type { PoolStats } from "./drivers/types.js";
import type { ServiceRow } from "./store/rows.js";
import { listServices, serviceUp, statsOf } from "./store/services.js";

/** The binary name volume agents report as (Cinder's volume service). */
export const VOLUME_BINARY = "cinder-volume";

/** Why no host was found, for the user message. */
export class NoValidBackend extends Error {
  constructor(reason: string) {
    super(`No valid backend was found. ${reason}`);
    this.name = "NoValidBackend";
  }
}

/** The agent (bus server) of a volume's host ("host@backend#pool" -> "host"). */
export const agentOf = (volumeHost: string): string => volumeHost.split("@", 1)[0];

/** The backend of a volume's host ("host@backend#pool" -> "backend"), or null without one. */
export function backendNameOf(volumeHost: string | null): string | null {
  const at = volumeHost?.indexOf("@") ?? -1;
  return volumeHost && at >= 0 ? volumeHost.slice(at + 1).split("#", 1)[0] : null;
}

/** A volume service's backend: the name its agent reports (`host@name`) and its `volume_backend_name`. */
export function backendOfService(s: ServiceRow): { name: string; volumeBackendName: string } {
  const st = statsOf(s) as { backend?: unknown; volumeBackendName?: unknown } | null;
  const name = typeof st?.backend === "string" ? st.backend : (backendNameOf(s.host) ?? "default");
  const vbn = typeof st?.volumeBackendName === "string" ? st.volumeBackendName : name;
  return { name, volumeBackendName: vbn };
}

/** The host name Cinder shows for a service: host@backend for volume services, the host for the others. */
export const serviceHostName = (s: ServiceRow): string =>
  s.binary !== VOLUME_BINARY || s.host.includes("@") ? s.host : `${s.host}@${backendOfService(s).name}`;

/** A pool of a volume service that is up, as the scheduler weighs it. */
export interface Pool {
  /** "host@backend#pool". */
  host: string;
  stats: PoolStats;
  caps: Map<string, string | boolean>;
}

/** The pools of the volume services that are up, enabled and in `zone`. */
export async function poolsUp(core: VolumeCore, zone: string): Promise<Pool[]> {
  const pools: Pool[] = [];
  for (const s of await listServices(core)) {
    if (s.binary !== VOLUME_BINARY || s.disabled || s.zone !== zone || !serviceUp(core, s)) continue;
    const st = statsOf(s);
    if (!st) continue;
    const caps = poolCapabilities(st, backendOfService(s).volumeBackendName);
    pools.push({ host: `${serviceHostName(s)}#${st.pool}`, stats: st, caps });
  }
  return pools;
}

/**
 * The host ("host@backend#pool") to make a volume of `sizeGb` in `zone` on, whose capabilities satisfy the volume
 * type's extra specs (throws NoValidBackend when none fits); `accept` narrows the pools (a migration's).
 */
export async function pickHost(
  core: VolumeCore,
  sizeGb: number,
  zone: string,
  specs: ReadonlyMap<string, string> = new Map(),
  accept: (host: string) => boolean = () => true,
): Promise<string> {
  const pools = (await poolsUp(core, zone)).filter((p) => accept(p.host));
  if (pools.length === 0) throw new NoValidBackend("No volume agent is up in this availability zone.");
  let best: { host: string; free: number } | null = null;
  let capable = 0;
  for (const p of pools) {
    if (!capabilitiesMatch(specs, p.caps)) continue;
    capable++;
    if (p.stats.freeCapacityGb < sizeGb) continue;
    if (!best || p.stats.freeCapacityGb > best.free) best = { host: p.host, free: p.stats.freeCapacityGb };
  }
  if (capable === 0) throw new NoValidBackend("No backend has the capabilities the volume type asks for.");
  if (!best) throw new NoValidBackend(`Insufficient free space for volume creation (requested ${sizeGb}G).`);
  return best.host;
}
