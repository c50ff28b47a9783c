// Tags of any standard-attribute resource (Neutron's standard-attr-tag), keyed by resource type and id.
import type { NetworkCore } from "../core.js";
import { inTransaction, netDb } from "./tables.js";

/** Tags of these resources, sorted, by id. */
export async function tagsFor(
  core: NetworkCore,
  type: string,
  ids: string[],
): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await netDb(core)
      .selectFrom("network_tag")
      .select(["resource_id", "tag"])
      .where("resource_type", "=", type)
      .where("resource_id", "in", ids.slice(i, i + 500))
      .orderBy("tag")
      .execute();
    for (const r of rows) out.set(r.resource_id, [...(out.get(r.resource_id) ?? []), r.tag]);
  }
  return out;
}

/** Replace a resource's tags. */
export async function replaceTags(
  core: NetworkCore,
  type: string,
  id: string,
  tags: string[],
): Promise<void> {
  await inTransaction(netDb(core), async (trx) => {
    await trx
      .deleteFrom("network_tag")
      .where("resource_type", "=", type)
      .where("resource_id", "=", id)
      .execute();
    if (tags.length)
      await trx
        .insertInto("network_tag")
        .values([...new Set(tags)].map((tag) => ({ resource_type: type, resource_id: id, tag })))
        .execute();
  });
}

/** Add one tag unless it is there. */
export async function addTag(core: NetworkCore, type: string, id: string, tag: string): Promise<void> {
  const q = netDb(core).insertInto("network_tag").values({ resource_type: type, resource_id: id, tag });
  if (core.engine === "mysql") await q.ignore().execute();
  else await q.onConflict((oc) => oc.doNothing()).execute();
}

/** Remove one tag; whether it was there. */
export async function removeTag(core: NetworkCore, type: string, id: string, tag: string): Promise<boolean> {
  const r = await netDb(core)
    .deleteFrom("network_tag")
    .where("resource_type", "=", type)
    .where("resource_id", "=", id)
    .where("tag", "=", tag)
    .executeTakeFirst();
  return Number(r.numDeletedRows) > 0;
}

/** Remove every tag of a resource (it is being deleted, or the client cleared them). */
export async function removeTags(core: NetworkCore, type: string, id: string): Promise<void> {
  await netDb(core)
    .deleteFrom("network_tag")
    .where("resource_type", "=", type)
    .where("resource_id", "=", id)
    .execute();
}
