import { isUniqueViolation, nowIso } from "../../shared/db/index.js";
import type { Db, PlacementCore } from "../core.js";
import { badRequest, conflict, notFound } from "../errors.js";
import { CUSTOM_RC_BASE, STANDARD_RESOURCE_CLASSES } from "../seed/resource-classes.js";

/** A resource class row. */
export interface ResourceClass {
  id: number;
  name: string;
  created_at: string;
  updated_at: string;
}

const isStandard = (name: string) => !name.startsWith("CUSTOM_");

/** Insert the standard classes that are missing, with their fixed ids. */
export async function seedResourceClasses(core: PlacementCore): Promise<void> {
  const have = new Set(
    (await core.db.selectFrom("placement_resource_class").select("id").execute()).map((r) => Number(r.id)),
  );
  const now = nowIso();
  const rows = STANDARD_RESOURCE_CLASSES.map((name, id) => ({
    id,
    name,
    created_at: now,
    updated_at: now,
  })).filter((r) => !have.has(r.id));
  for (const r of rows)
    await core.db
      .insertInto("placement_resource_class")
      .values(r)
      .execute()
      .catch((e) => {
        if (!isUniqueViolation(e)) throw e;
      });
  core.resourceClasses.invalidate();
}

const fromRow = (r: any): ResourceClass => ({
  id: Number(r.id),
  name: r.name,
  created_at: r.created_at,
  updated_at: r.updated_at,
});

/** All classes, standard first (by id), then custom. */
export async function listResourceClasses(db: Db): Promise<ResourceClass[]> {
  return (await db.selectFrom("placement_resource_class").selectAll().orderBy("id").execute()).map(fromRow);
}

/** One class by name, or null. */
export async function getResourceClass(db: Db, name: string): Promise<ResourceClass | null> {
  const r = await db
    .selectFrom("placement_resource_class")
    .selectAll()
    .where("name", "=", name)
    .executeTakeFirst();
  return r ? fromRow(r) : null;
}

/** Create a custom class; 409 if it exists. */
export async function createResourceClass(core: PlacementCore, name: string): Promise<ResourceClass> {
  for (let attempt = 0; ; attempt++) {
    try {
      const rc = await core.tx(async (tx) => {
        if (await getResourceClass(tx, name))
          throw conflict(`Conflicting resource class already exists: ${name}`);
        const max = await tx
          .selectFrom("placement_resource_class")
          .select((eb) => eb.fn.max("id").as("m"))
          .executeTakeFirst();
        const id = Math.max(CUSTOM_RC_BASE, Number(max?.m ?? 0) + 1);
        const now = nowIso();
        await tx
          .insertInto("placement_resource_class")
          .values({ id, name, created_at: now, updated_at: now })
          .execute();
        return { id, name, created_at: now, updated_at: now };
      });
      core.resourceClasses.invalidate();
      return rc;
    } catch (e) {
      // Two creators picked the same id: try again with the next one (a duplicate name is reported above).
      if (isUniqueViolation(e) && attempt < 10) {
        if (await getResourceClass(core.db, name))
          throw conflict(`Conflicting resource class already exists: ${name}`);
        continue;
      }
      throw e;
    }
  }
}

/** Rename a custom class (1.2 - 1.6). */
export async function renameResourceClass(
  core: PlacementCore,
  name: string,
  to: string,
): Promise<ResourceClass> {
  const rc = await getResourceClass(core.db, name);
  if (!rc) throw notFound(`No such resource class ${name}.`);
  if (isStandard(name)) throw badRequest(`Cannot update standard resource class ${name}`);
  try {
    await core.db
      .updateTable("placement_resource_class")
      .set({ name: to, updated_at: nowIso() })
      .where("id", "=", rc.id)
      .execute();
  } catch (e) {
    if (isUniqueViolation(e)) throw conflict(`Resource class already exists: ${to}`);
    throw e;
  }
  core.resourceClasses.invalidate();
  return (await getResourceClass(core.db, to)) as ResourceClass;
}

/** Delete a custom class: 400 for a standard one, 409 while an inventory uses it. */
export async function deleteResourceClass(core: PlacementCore, name: string): Promise<void> {
  await core.tx(async (tx) => {
    const rc = await getResourceClass(tx, name);
    if (!rc) throw notFound(`No such resource class ${name}.`);
    if (isStandard(name))
      throw badRequest(`Error in delete resource class: Cannot delete standard resource class ${name}.`);
    const used = await tx
      .selectFrom("placement_inventory")
      .select("provider_id")
      .where("rc_id", "=", rc.id)
      .limit(1)
      .executeTakeFirst();
    if (used)
      throw conflict(
        `Error in delete resource class: Cannot delete resource class ${name}. Class is in use in inventory.`,
      );
    await tx.deleteFrom("placement_resource_class").where("id", "=", rc.id).execute();
  });
  core.resourceClasses.invalidate();
}
