import { nowIso } from "../../shared/db/index.js";
import type { PoolStats } from "../drivers/types.js";
import type { VolumeCore } from "../core.js";
import { parseJson, type ServiceRow } from "./rows.js";

/** Record a heartbeat of (host, binary) with its pool stats (creates the row on first report). */
export async function heartbeat(
  core: VolumeCore,
  host: string,
  binary: string,
  zone: string,
  stats: PoolStats | null,
): Promise<void> {
  const now = nowIso();
  const text = JSON.stringify(stats ?? {});
  const r = await core.db
    .updateTable("volume_service")
    .set({ updated_at: now, stats: text, zone })
    .where("host", "=", host)
    .where("binary", "=", binary)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) > 0) return;
  try {
    await core.db
      .insertInto("volume_service")
      .values({
        host,
        binary,
        zone,
        disabled: 0,
        disabled_reason: null,
        stats: text,
        created_at: now,
        updated_at: now,
      })
      .execute();
  } catch {
    // raced with another heartbeat of the same service
  }
}

/** Every service. */
export async function listServices(core: VolumeCore): Promise<ServiceRow[]> {
  return (await core.db
    .selectFrom("volume_service")
    .selectAll()
    .orderBy("binary")
    .orderBy("host")
    .execute()) as ServiceRow[];
}

/** Whether a service reported within the service down time. */
export function serviceUp(core: VolumeCore, s: ServiceRow): boolean {
  return Date.now() - Date.parse(s.updated_at) <= core.cfg.volume.serviceDownTime * 1000;
}

/** A service's pool stats, or null. */
export function statsOf(s: ServiceRow): PoolStats | null {
  const v = parseJson(s.stats) as PoolStats | null;
  return v && typeof v.freeCapacityGb === "number" ? v : null;
}

/** Enable or disable the services of `hosts` (e.g. "h@b", or every backend of "h"); false when there are none. */
export async function setServiceDisabled(
  core: VolumeCore,
  hosts: readonly string[],
  binary: string,
  disabled: boolean,
  reason: string | null,
): Promise<boolean> {
  if (hosts.length === 0) return false;
  const r = await core.db
    .updateTable("volume_service")
    .set({ disabled: disabled ? 1 : 0, disabled_reason: reason })
    .where("host", "in", [...hosts])
    .where("binary", "=", binary)
    .executeTakeFirst();
  return Number(r.numUpdatedRows) > 0;
}

/** Remove a service's row (a volume agent's row from before its backends were named `host@backend`). */
export async function dropService(core: VolumeCore, host: string, binary: string): Promise<void> {
  await core.db.deleteFrom("volume_service").where("host", "=", host).where("binary", "=", binary).execute();
}
