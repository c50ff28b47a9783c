import { sql } from "kysely";
import { isUniqueViolation, nowIso } from "../../shared/db/index.js";
import type { Db, PlacementCore } from "../core.js";
import { STANDARD_TRAITS } from "../seed/traits.js";
import { badRequest, concurrentUpdate, conflict, notFound } from "../errors.js";
import { bumpGeneration, getProvider } from "./providers.js";

const CUSTOM = "CUSTOM_";

/** Insert the standard traits that are missing (on every start, so that new os-traits names appear). */
export async function seedTraits(core: PlacementCore): Promise<void> {
  const have = new Set(
    (await core.db.selectFrom("placement_trait").select("name").execute()).map((r) => r.name as string),
  );
  const missing = STANDARD_TRAITS.filter((t) => !have.has(t));
  const now = nowIso();
  for (let i = 0; i < missing.length; i += 200) {
    const rows = missing.slice(i, i + 200).map((name) => ({ name, created_at: now, updated_at: now }));
    try {
      await core.db.insertInto("placement_trait").values(rows).execute();
    } catch (e) {
      // Another process seeding at the same time: insert one by one, skipping what exists.
      if (!isUniqueViolation(e)) throw e;
      for (const r of rows)
        await core.db
          .insertInto("placement_trait")
          .values(r)
          .execute()
          .catch((err) => {
            if (!isUniqueViolation(err)) throw err;
          });
    }
  }
  core.traits.invalidate();
}

/** A trait row. */
export interface Trait {
  id: number;
  name: string;
  created_at: string;
  updated_at: string;
}

/** GET /traits with its filters: name=in:a,b / startswith:X, associated=true|false. */
export async function listTraits(
  db: Db,
  f: { nameIn?: string[]; prefix?: string; associated?: boolean },
): Promise<Trait[]> {
  let q = db.selectFrom("placement_trait as t").select(["t.id", "t.name", "t.created_at", "t.updated_at"]);
  if (f.nameIn) {
    if (!f.nameIn.length) return [];
    q = q.where("t.name", "in", f.nameIn);
  }
  if (f.prefix !== undefined) {
    // A prefix compared exactly (LIKE ignores case on SQLite and treats "_" as a wildcard).
    q = q.where(sql<boolean>`SUBSTR(t.name, 1, ${sql.raw(String(f.prefix.length))}) = ${f.prefix}`);
  }
  if (f.associated !== undefined) {
    const sub = sql`EXISTS (SELECT 1 FROM placement_provider_trait pt WHERE pt.trait_id = t.id)`;
    q = q.where(f.associated ? sql<boolean>`${sub}` : sql<boolean>`NOT ${sub}`);
  }
  const rows = await q.orderBy("t.name").execute();
  return rows.map((r) => ({
    id: Number(r.id),
    name: r.name,
    created_at: r.created_at,
    updated_at: r.updated_at,
  }));
}

/** One trait by name, or null. */
export async function getTrait(db: Db, name: string): Promise<Trait | null> {
  const r = await db.selectFrom("placement_trait").selectAll().where("name", "=", name).executeTakeFirst();
  return r ? { id: Number(r.id), name: r.name, created_at: r.created_at, updated_at: r.updated_at } : null;
}

/** Create a custom trait if missing; true when it was created. */
export async function ensureTrait(
  core: PlacementCore,
  name: string,
): Promise<{ created: boolean; trait: Trait }> {
  const existing = await getTrait(core.db, name);
  if (existing) return { created: false, trait: existing };
  const now = nowIso();
  try {
    await core.db.insertInto("placement_trait").values({ name, created_at: now, updated_at: now }).execute();
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
    return { created: false, trait: (await getTrait(core.db, name)) as Trait };
  }
  core.traits.invalidate();
  return { created: true, trait: (await getTrait(core.db, name)) as Trait };
}

/** Delete a custom trait: 400 for a standard one, 409 while a provider has it, 404 if absent. */
export async function deleteTrait(core: PlacementCore, name: string): Promise<void> {
  await core.tx(async (tx) => {
    const t = await getTrait(tx, name);
    if (!t) throw notFound(`No such trait(s): ${name}.`);
    if (!name.startsWith(CUSTOM)) throw badRequest(`Cannot delete standard trait ${name}.`);
    const used = await tx
      .selectFrom("placement_provider_trait")
      .select("provider_id")
      .where("trait_id", "=", t.id)
      .limit(1)
      .executeTakeFirst();
    if (used) throw conflict(`The trait ${name} is in use by a resource provider.`);
    await tx.deleteFrom("placement_trait").where("id", "=", t.id).execute();
  });
  core.traits.invalidate();
}

/** Trait names of one provider. */
export async function providerTraits(db: Db, providerId: number): Promise<Trait[]> {
  const rows = await db
    .selectFrom("placement_provider_trait as pt")
    .innerJoin("placement_trait as t", "t.id", "pt.trait_id")
    .select(["t.id", "t.name", "t.created_at", "t.updated_at"])
    .where("pt.provider_id", "=", providerId)
    .orderBy("t.name")
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    name: r.name,
    created_at: r.created_at,
    updated_at: r.updated_at,
  }));
}

/**
 * Replace a provider's traits. The caller's generation must match (else GenerationConflict); the generation is
 * bumped only when the set actually changes, as in Placement. Returns the provider's generation afterwards.
 */
export async function setProviderTraits(
  core: PlacementCore,
  uuid: string,
  generation: number | null,
  traitIds: number[],
): Promise<number> {
  return core.tx(async (tx) => {
    const p = await getProvider(tx, uuid);
    if (!p) throw notFound(`No resource provider with uuid ${uuid} found`);
    if (generation !== null && generation !== p.generation)
      throw concurrentUpdate(
        "Resource provider's generation already changed. Please update the generation and try again.",
      );
    const have = new Set(
      (
        await tx
          .selectFrom("placement_provider_trait")
          .select("trait_id")
          .where("provider_id", "=", p.id)
          .execute()
      ).map((r) => Number(r.trait_id)),
    );
    const want = new Set(traitIds);
    const add = [...want].filter((t) => !have.has(t));
    const del = [...have].filter((t) => !want.has(t));
    if (!add.length && !del.length) return p.generation;
    if (del.length)
      await tx
        .deleteFrom("placement_provider_trait")
        .where("provider_id", "=", p.id)
        .where("trait_id", "in", del)
        .execute();
    if (add.length)
      await tx
        .insertInto("placement_provider_trait")
        .values(add.map((t) => ({ provider_id: p.id, trait_id: t })))
        .execute();
    return bumpGeneration(tx, p.id, p.generation);
  });
}
