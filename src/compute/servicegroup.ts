// Service liveness (Nova's servicegroup DB driver): an agent is up while its heartbeat is younger than
// service_down_time and no operator forced it down.
import { randomUUID } from "node:crypto";
import type { Kysely } from "kysely";
import { nowIso } from "../shared/db/index.js";
import type { Config } from "../shared/config.js";

/** A compute_service row, as the API and the scheduler use it. */
export interface ServiceRow {
  id: number;
  uuid: string;
  host: string;
  binary: string;
  topic: string | null;
  report_count: number;
  disabled: boolean;
  disabled_reason: string | null;
  forced_down: boolean;
  last_seen_up_ms: number | null;
  version: number;
  created_at: string;
  updated_at: string | null;
}

/** Raw row → ServiceRow. */
export function parseService(r: Record<string, unknown>): ServiceRow {
  return {
    ...(r as unknown as ServiceRow),
    id: Number(r.id),
    report_count: Number(r.report_count),
    disabled: Number(r.disabled) === 1,
    forced_down: Number(r.forced_down) === 1,
    last_seen_up_ms: r.last_seen_up_ms === null ? null : Number(r.last_seen_up_ms),
    version: Number(r.version),
  };
}

/** Whether a service counts as up now. */
export function serviceIsUp(s: ServiceRow, cfg: Config, now = Date.now()): boolean {
  if (s.forced_down) return false;
  if (s.last_seen_up_ms === null) return false;
  return now - s.last_seen_up_ms <= cfg.compute.serviceDownTime * 1000;
}

/** Every service row (optionally of one binary). */
export async function listServices(db: Kysely<any>, binary?: string): Promise<ServiceRow[]> {
  let q = db.selectFrom("compute_service").selectAll().orderBy("id");
  if (binary) q = q.where("binary", "=", binary);
  return (await q.execute()).map(parseService);
}

/** Record a heartbeat of (host, binary), registering the service the first time it reports. */
export async function heartbeat(db: Kysely<any>, host: string, binary: string): Promise<void> {
  const now = Date.now();
  const r = await db
    .updateTable("compute_service")
    .set((eb) => ({ last_seen_up_ms: now, report_count: eb("report_count", "+", 1), updated_at: nowIso() }))
    .where("host", "=", host)
    .where("binary", "=", binary)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) > 0) return;
  await db
    .insertInto("compute_service")
    .values({
      uuid: randomUUID(),
      host,
      binary,
      topic: binary.replace(/^nova-/, ""),
      report_count: 1,
      disabled: 0,
      forced_down: 0,
      last_seen_up_ms: now,
      version: 1,
      created_at: nowIso(),
    })
    .execute()
    .catch(() => undefined); // registered meanwhile by another process of this host
}

/** Whether the nova-compute service of `host` exists and is up (one row, for per-request checks). */
export async function computeHostUp(db: Kysely<any>, cfg: Config, host: string): Promise<boolean> {
  const row = await db
    .selectFrom("compute_service")
    .selectAll()
    .where("host", "=", host)
    .where("binary", "=", "nova-compute")
    .executeTakeFirst();
  return row !== undefined && serviceIsUp(parseService(row), cfg);
}
