import { sql } from "kysely";
import { nowIso } from "../../shared/db/index.js";
import type { Db, PlacementCore } from "../core.js";
import { CODES, badRequest, concurrentUpdate, conflict, notFound } from "../errors.js";
import { bumpGeneration, getProvider, type Provider } from "./providers.js";

/** The settable fields of an inventory. */
export interface InventoryFields {
  total: number;
  reserved: number;
  min_unit: number;
  max_unit: number;
  step_size: number;
  allocation_ratio: number;
}

/** One inventory record of a provider. */
export interface Inventory extends InventoryFields {
  rc_id: number;
  resource_class: string;
  updated_at: string;
}

/** Just the stored fields of an inventory-like object. */
export const fieldsOf = (i: InventoryFields): InventoryFields => ({
  total: i.total,
  reserved: i.reserved,
  min_unit: i.min_unit,
  max_unit: i.max_unit,
  step_size: i.step_size,
  allocation_ratio: i.allocation_ratio,
});

/** Placement's capacity: (total - reserved) * allocation_ratio, truncated. */
export const capacityOf = (i: InventoryFields): number =>
  Math.trunc((i.total - i.reserved) * i.allocation_ratio);

/** All inventories of a provider. */
export async function listInventories(core: PlacementCore, db: Db, providerId: number): Promise<Inventory[]> {
  const rows = await db
    .selectFrom("placement_inventory")
    .selectAll()
    .where("provider_id", "=", providerId)
    .orderBy("rc_id")
    .execute();
  const out: Inventory[] = [];
  for (const r of rows)
    out.push({
      rc_id: Number(r.rc_id),
      resource_class: await core.resourceClasses.name(db, Number(r.rc_id)),
      total: Number(r.total),
      reserved: Number(r.reserved),
      min_unit: Number(r.min_unit),
      max_unit: Number(r.max_unit),
      step_size: Number(r.step_size),
      allocation_ratio: Number(r.allocation_ratio),
      updated_at: r.updated_at,
    });
  return out;
}

/** Resource class names -> ids; throws the handler's 400 naming the first unknown class. */
export async function resolveClasses(
  core: PlacementCore,
  db: Db,
  names: string[],
  message: (missing: string) => string,
): Promise<Map<string, number>> {
  const { ids, missing } = await core.resourceClasses.ids(db, names);
  if (missing.length) throw badRequest(message(`No such resource class ${missing[0]}.`));
  return ids;
}

/** 409 if any of these classes has allocations on the provider. */
async function assertNotInUse(core: PlacementCore, db: Db, p: Provider, rcIds: number[], code: string) {
  if (!rcIds.length) return;
  const used = await db
    .selectFrom("placement_allocation")
    .select("rc_id")
    .distinct()
    .where("provider_id", "=", p.id)
    .where("rc_id", "in", rcIds)
    .execute();
  if (used.length) {
    const names = used.map((u) => core.resourceClasses.nameSync(Number(u.rc_id))).join(", ");
    throw conflict(`Inventory for '${names}' on resource provider '${p.uuid}' in use.`, code);
  }
}

/** Usage per class of one provider. */
export async function usageByClass(db: Db, providerId: number): Promise<Map<number, number>> {
  const rows = await sql<{
    rc_id: number;
    used: number;
  }>`SELECT rc_id, SUM(used) AS used FROM placement_allocation WHERE provider_id = ${providerId} GROUP BY rc_id`.execute(
    db,
  );
  return new Map(rows.rows.map((r) => [Number(r.rc_id), Number(r.used)]));
}

async function freshProvider(db: Db, uuid: string): Promise<Provider> {
  const p = await getProvider(db, uuid);
  if (!p) throw notFound(`No resource provider with uuid ${uuid} found`);
  return p;
}

function overCapacityWarning(
  core: PlacementCore,
  p: Provider,
  rc: string,
  used: number,
  inv: InventoryFields,
) {
  if (used > capacityOf(inv))
    core.log.warn({ provider: p.uuid, resourceClass: rc }, "resource provider is now over-capacity");
}

/**
 * Replace all inventories of a provider (PUT .../inventories, DELETE .../inventories, reshaper): classes absent
 * from `wanted` are removed (409 placement.inventory.inuse if allocated), the others added or updated. Checks the
 * caller's generation when given and bumps it. Returns the provider as it is afterwards.
 */
export async function replaceInventories(
  core: PlacementCore,
  db: Db,
  uuid: string,
  generation: number | null,
  wanted: Map<number, InventoryFields>,
): Promise<Provider> {
  const p = await freshProvider(db, uuid);
  if (generation !== null && generation !== p.generation)
    throw concurrentUpdate("resource provider generation conflict");
  const existing = await db
    .selectFrom("placement_inventory")
    .select("rc_id")
    .where("provider_id", "=", p.id)
    .execute();
  const have = new Set(existing.map((r) => Number(r.rc_id)));
  const toDelete = [...have].filter((id) => !wanted.has(id));
  await assertNotInUse(core, db, p, toDelete, CODES.INVENTORY_INUSE);
  if (toDelete.length)
    await db
      .deleteFrom("placement_inventory")
      .where("provider_id", "=", p.id)
      .where("rc_id", "in", toDelete)
      .execute();
  const now = nowIso();
  const usage = wanted.size ? await usageByClass(db, p.id) : new Map<number, number>();
  for (const [rcId, inv] of wanted) {
    if (have.has(rcId)) {
      await db
        .updateTable("placement_inventory")
        .set({ ...fieldsOf(inv), updated_at: now })
        .where("provider_id", "=", p.id)
        .where("rc_id", "=", rcId)
        .execute();
      overCapacityWarning(core, p, core.resourceClasses.nameSync(rcId), usage.get(rcId) ?? 0, inv);
    } else
      await db
        .insertInto("placement_inventory")
        .values({ provider_id: p.id, rc_id: rcId, ...fieldsOf(inv), created_at: now, updated_at: now })
        .execute();
  }
  const gen = await bumpGeneration(db, p.id, p.generation);
  return { ...p, generation: gen, updated_at: now };
}

/** POST one inventory: 409 if the class is already there. */
export async function addInventory(
  core: PlacementCore,
  uuid: string,
  generation: number | null,
  rcId: number,
  inv: InventoryFields,
): Promise<Provider> {
  return core.tx(async (tx) => {
    const p = await freshProvider(tx, uuid);
    if (generation !== null && generation !== p.generation)
      throw concurrentUpdate("resource provider generation conflict");
    const dup = await tx
      .selectFrom("placement_inventory")
      .select("rc_id")
      .where("provider_id", "=", p.id)
      .where("rc_id", "=", rcId)
      .executeTakeFirst();
    if (dup)
      throw concurrentUpdate(
        `Update conflict: Inventory for '${core.resourceClasses.nameSync(rcId)}' on resource provider '${uuid}' already exists.`,
      );
    const now = nowIso();
    await tx
      .insertInto("placement_inventory")
      .values({ provider_id: p.id, rc_id: rcId, ...inv, created_at: now, updated_at: now })
      .execute();
    const gen = await bumpGeneration(tx, p.id, p.generation);
    return { ...p, generation: gen };
  });
}

/** PUT one inventory: 400 if the provider has none of that class. */
export async function updateInventory(
  core: PlacementCore,
  uuid: string,
  generation: number,
  rcId: number,
  rcName: string,
  inv: InventoryFields,
): Promise<Provider> {
  return core.tx(async (tx) => {
    const p = await freshProvider(tx, uuid);
    if (generation !== p.generation) throw concurrentUpdate("resource provider generation conflict");
    const r = await tx
      .updateTable("placement_inventory")
      .set({ ...inv, updated_at: nowIso() })
      .where("provider_id", "=", p.id)
      .where("rc_id", "=", rcId)
      .executeTakeFirst();
    if (Number(r.numUpdatedRows) !== 1)
      throw badRequest(
        `No inventory record with resource class for resource provider ${uuid}: No inventory of class ${rcName} found.`,
      );
    overCapacityWarning(core, p, rcName, (await usageByClass(tx, p.id)).get(rcId) ?? 0, inv);
    const gen = await bumpGeneration(tx, p.id, p.generation);
    return { ...p, generation: gen };
  });
}

/** DELETE one inventory: 404 if absent, 409 if allocated. */
export async function deleteInventory(core: PlacementCore, uuid: string, rcId: number, rcName: string) {
  await core.tx(async (tx) => {
    const p = await freshProvider(tx, uuid);
    await assertNotInUse(core, tx, p, [rcId], CODES.INVENTORY_INUSE);
    const r = await tx
      .deleteFrom("placement_inventory")
      .where("provider_id", "=", p.id)
      .where("rc_id", "=", rcId)
      .executeTakeFirst();
    if (Number(r.numDeletedRows) !== 1)
      throw notFound(
        `No inventory of class ${rcName} found for delete: No inventory of class ${rcName} found for delete`,
      );
    await bumpGeneration(tx, p.id, p.generation);
  });
}
