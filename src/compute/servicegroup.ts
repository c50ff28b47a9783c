// Service liveness (Nova's servicegroup DB driver): an agent is up while its heartbeat is younger than
// service_down_time and no operator forced it down.
import type { Kysely } from "kysely";
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
