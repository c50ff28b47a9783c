// The scheduler step (Cinder's filter scheduler, reduced to its capacity and zone filters and the capacity
// weigher): of the volume agents that are up, enabled, in the zone and have room, pick the one with the most free
// space. It only picks; the API records the host and casts the work to it.
import { capabilitiesMatch, poolCapabilities } from "./capabilities.js";
import type { VolumeCore } from "./core.js";
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

/**
 * The host ("host@backend#pool") to make a volume of `sizeGb` in `zone` on, whose capabilities satisfy the volume
 * type's extra specs (throws NoValidBackend when none fits).
 */
export async function pickHost(
  core: VolumeCore,
  sizeGb: number,
  zone: string,
  specs: ReadonlyMap<string, string> = new Map(),
): Promise<string> {
  const candidates = (await listServices(core)).filter(
    (s) => s.binary === VOLUME_BINARY && !s.disabled && s.zone === zone && serviceUp(core, s),
  );
  if (candidates.length === 0) throw new NoValidBackend("No volume agent is up in this availability zone.");
  let best: { host: string; free: number } | null = null;
  let capable = 0;
  for (const s of candidates) {
    const st = statsOf(s);
    if (!st) continue;
    const name = (st as { backend?: unknown }).backend;
    const backend = typeof name === "string" ? name : "default";
    if (!capabilitiesMatch(specs, poolCapabilities(st, backend))) continue;
    capable++;
    if (st.freeCapacityGb < sizeGb) continue;
    const host = `${s.host}@${backend}#${st.pool}`;
    if (!best || st.freeCapacityGb > best.free) best = { host, free: st.freeCapacityGb };
  }
  if (capable === 0) throw new NoValidBackend("No backend has the capabilities the volume type asks for.");
  if (!best) throw new NoValidBackend(`Insufficient free space for volume creation (requested ${sizeGb}G).`);
  return best.host;
}
