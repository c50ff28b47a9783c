// Availability zones of compute hosts: a host is in the zone its aggregates name (availability_zone metadata),
// else in the configured default zone.
import type { Kysely } from "kysely";
import type { ComputeCore } from "./core.js";

/** Host → the availability zones of the aggregates it is in (only aggregates that name one), sorted. */
export async function aggregateZonesByHost(db: Kysely<any>): Promise<Map<string, string[]>> {
  const rows = (await db
    .selectFrom("compute_aggregate_host as h")
    .innerJoin("compute_aggregate_metadata as m", "m.aggregate_id", "h.aggregate_id")
    .select(["h.host as host", "m.value as value"])
    .where("m.meta_key", "=", "availability_zone")
    .execute()) as Array<{ host: string; value: string }>;
  const out = new Map<string, string[]>();
  for (const r of rows) {
    const zones = out.get(r.host) ?? [];
    if (!zones.includes(r.value)) zones.push(r.value);
    out.set(r.host, zones);
  }
  for (const z of out.values()) z.sort();
  return out;
}

/** The availability zone of a host: its aggregates' availability_zone metadata, else the default zone. */
export async function hostZone(core: ComputeCore, host: string): Promise<string> {
  const row = (await core.db
    .selectFrom("compute_aggregate_metadata")
    .innerJoin(
      "compute_aggregate_host",
      "compute_aggregate_host.aggregate_id",
      "compute_aggregate_metadata.aggregate_id",
    )
    .select("compute_aggregate_metadata.value")
    .where("compute_aggregate_host.host", "=", host)
    .where("compute_aggregate_metadata.meta_key", "=", "availability_zone")
    .executeTakeFirst()) as { value: string } | undefined;
  return row?.value ?? core.cfg.compute.defaultAvailabilityZone;
}
