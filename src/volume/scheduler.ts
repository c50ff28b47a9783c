// The scheduler step (Cinder's filter scheduler, reduced to its capacity and zone filters and the capacity
// weigher): of the volume agents that are up, enabled, in the zone and have room, pick the one with the most free
// space. It only picks; the API records the host and casts the work to it.
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

/** The host ("host@backend#pool") to make a volume of `sizeGb` in `zone` on (throws NoValidBackend when none fits). */
export async function pickHost(core: VolumeCore, sizeGb: number, zone: string): Promise<string> {
  const candidates = (await listServices(core)).filter(
    (s) => s.binary === VOLUME_BINARY && !s.disabled && s.zone === zone && serviceUp(core, s),
  );
  if (candidates.length === 0) throw new NoValidBackend("No volume agent is up in this availability zone.");
  let best: { host: string; free: number } | null = null;
  for (const s of candidates) {
    const st = statsOf(s);
    if (!st || st.freeCapacityGb < sizeGb) continue;
    const name = (st as { backend?: unknown }).backend;
    const host = `${s.host}@${typeof name === "string" ? name : "default"}#${st.pool}`;
    if (!best || st.freeCapacityGb > best.free) best = { host, free: st.freeCapacityGb };
  }
  if (!best) throw new NoValidBackend(`Insufficient free space for volume creation (requested ${sizeGb}G).`);
  return best.host;
}
