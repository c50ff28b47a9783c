// Network segments (Neutron's networksegments with ML2's type allocations folded in): a network's type, physical
// network and segmentation id. `alloc_key` is unique, so a VLAN id, a VNI or a flat physical network is taken by
// one network whatever the races: the loser's insert fails and it tries another id.
import { isUniqueViolation, nowIso } from "../../shared/db/index.js";
import type { NetworkCore } from "../core.js";
import { inSavepoint, netDb, type NetworkTables } from "./tables.js";

/** A segment row. */
export type Segment = NetworkTables["network_segment"];

/** The unique allocation key of a segment; null for local networks (any number of them). */
export function allocKey(type: string, physnet: string | null, segid: number | null): string | null {
  if (type === "local") return null;
  if (type === "flat") return `flat:${physnet ?? ""}`;
  return `${type}:${physnet ?? ""}:${segid ?? ""}`;
}

/** Insert a segment; false when its allocation key is taken (the caller picks another id or refuses). */
export async function tryInsertSegment(
  core: NetworkCore,
  s: Omit<Segment, "id" | "alloc_key" | "created_at">,
): Promise<Segment | null> {
  const row: Segment = {
    ...s,
    id: core.newId(),
    alloc_key: allocKey(s.network_type, s.physical_network, s.segmentation_id),
    created_at: nowIso(),
  };
  try {
    await inSavepoint(core.db, () => netDb(core).insertInto("network_segment").values(row).execute());
    return row;
  } catch (e) {
    if (isUniqueViolation(e)) return null;
    throw e;
  }
}

/** Segmentation ids of a type (and physical network) in use. */
export async function usedSegmentationIds(
  core: NetworkCore,
  type: string,
  physnet: string | null,
): Promise<Set<number>> {
  let q = netDb(core)
    .selectFrom("network_segment")
    .select("segmentation_id")
    .where("network_type", "=", type);
  q = physnet === null ? q.where("physical_network", "is", null) : q.where("physical_network", "=", physnet);
  const rows = await q.execute();
  return new Set(rows.map((r) => Number(r.segmentation_id)));
}

/** The segments of these networks, by network id (one each here; multi-segment networks are not supported). */
export async function segmentsFor(core: NetworkCore, ids: string[]): Promise<Map<string, Segment>> {
  const out = new Map<string, Segment>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await netDb(core)
      .selectFrom("network_segment")
      .selectAll()
      .where("network_id", "in", ids.slice(i, i + 500))
      .execute();
    for (const r of rows)
      out.set(r.network_id, {
        ...r,
        segmentation_id: r.segmentation_id === null ? null : Number(r.segmentation_id),
      });
  }
  return out;
}

/** Release a network's segments. */
export async function deleteSegments(core: NetworkCore, networkId: string): Promise<void> {
  await netDb(core).deleteFrom("network_segment").where("network_id", "=", networkId).execute();
}
