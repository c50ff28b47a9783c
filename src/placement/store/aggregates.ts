import type { Db, PlacementCore } from "../core.js";
import { concurrentUpdate, notFound } from "../errors.js";
import { bumpGeneration, getProvider } from "./providers.js";

/** Aggregate uuids of a provider. */
export async function providerAggregates(db: Db, providerId: number): Promise<string[]> {
  const rows = await db
    .selectFrom("placement_provider_aggregate")
    .select("aggregate_uuid")
    .where("provider_id", "=", providerId)
    .orderBy("aggregate_uuid")
    .execute();
  return rows.map((r) => r.aggregate_uuid as string);
}

/**
 * Replace a provider's aggregates. From 1.19 the caller's generation must match and the generation is bumped;
 * before, neither. Returns the generation afterwards.
 */
export async function setProviderAggregates(
  core: PlacementCore,
  uuid: string,
  aggregates: string[],
  generation: number | null,
): Promise<number> {
  return core.tx(async (tx) => {
    const p = await getProvider(tx, uuid);
    if (!p) throw notFound(`No resource provider with uuid ${uuid} found`);
    if (generation !== null && generation !== p.generation)
      throw concurrentUpdate(
        "Resource provider's generation already changed. Please update the generation and try again.",
      );
    const have = new Set(await providerAggregates(tx, p.id));
    const want = new Set(aggregates);
    const add = [...want].filter((a) => !have.has(a));
    const del = [...have].filter((a) => !want.has(a));
    if (del.length)
      await tx
        .deleteFrom("placement_provider_aggregate")
        .where("provider_id", "=", p.id)
        .where("aggregate_uuid", "in", del)
        .execute();
    if (add.length)
      await tx
        .insertInto("placement_provider_aggregate")
        .values(add.map((a) => ({ provider_id: p.id, aggregate_uuid: a })))
        .execute();
    return generation !== null ? bumpGeneration(tx, p.id, p.generation) : p.generation;
  });
}
