import { sql } from "kysely";
import { isUniqueViolation, nowIso } from "../../shared/db/index.js";
import type { Db, PlacementCore } from "../core.js";
import { CODES, GenerationConflict, badRequest, conflict, notFound } from "../errors.js";
import { and, capacityIds, hasAnyTrait, inAnyAggregate, int, intList, MAX_INT } from "./sql.js";

/** A resource provider as stored, with its parent's and root's uuids. */
export interface Provider {
  id: number;
  uuid: string;
  name: string;
  generation: number;
  parent_id: number | null;
  root_id: number;
  parent_provider_uuid: string | null;
  root_provider_uuid: string;
  created_at: string;
  updated_at: string;
}

const SELECT_PROVIDER = sql`SELECT rp.id, rp.uuid, rp.name, rp.generation, rp.parent_id, rp.root_id, rp.created_at, rp.updated_at, pp.uuid AS parent_uuid, rt.uuid AS root_uuid FROM placement_provider rp LEFT JOIN placement_provider pp ON pp.id = rp.parent_id LEFT JOIN placement_provider rt ON rt.id = rp.root_id`;

function toProvider(r: any): Provider {
  return {
    id: Number(r.id),
    uuid: r.uuid,
    name: r.name,
    generation: Number(r.generation),
    parent_id: r.parent_id === null || r.parent_id === undefined ? null : Number(r.parent_id),
    root_id: Number(r.root_id ?? r.id),
    parent_provider_uuid: r.parent_uuid ?? null,
    root_provider_uuid: r.root_uuid ?? r.uuid,
    created_at: r.created_at,
    updated_at: r.updated_at,
  };
}

/** One provider by uuid, or null. */
export async function getProvider(db: Db, uuid: string): Promise<Provider | null> {
  const r = await sql`${SELECT_PROVIDER} WHERE rp.uuid = ${uuid}`.execute(db);
  return r.rows.length ? toProvider(r.rows[0]) : null;
}

/** Providers by uuid (those that exist). */
export async function getProvidersByUuid(db: Db, uuids: string[]): Promise<Map<string, Provider>> {
  const out = new Map<string, Provider>();
  if (!uuids.length) return out;
  const r = await sql`${SELECT_PROVIDER} WHERE rp.uuid IN (${sql.join(uuids)})`.execute(db);
  for (const row of r.rows) {
    const p = toProvider(row);
    out.set(p.uuid, p);
  }
  return out;
}

/**
 * Compare-and-swap a provider's generation: +1 if it is still `generation`, else GenerationConflict. Every write
 * that changes what a provider offers (inventory, traits, aggregates from 1.19, allocations) goes through this.
 */
export async function bumpGeneration(db: Db, id: number, generation: number): Promise<number> {
  const r = await db
    .updateTable("placement_provider")
    .set({ generation: generation + 1, updated_at: nowIso() })
    .where("id", "=", id)
    .where("generation", "=", generation)
    .executeTakeFirst();
  if (Number(r.numUpdatedRows) !== 1) throw new GenerationConflict("provider");
  return generation + 1;
}

function duplicateMessage(e: unknown, uuid: string, name: string): string {
  const msg = String((e as Error)?.message ?? "");
  if (/uuid/i.test(msg)) return `Conflicting resource provider uuid: ${uuid} already exists.`;
  return `Conflicting resource provider name: ${name} already exists.`;
}

/** Create a provider (root, or child of parentUuid). Throws 400 for a bad parent, 409 for a duplicate. */
export async function createProvider(
  core: PlacementCore,
  input: { uuid: string; name: string; parentUuid: string | null },
): Promise<Provider> {
  const fail = (reason: string) =>
    badRequest(
      `Unable to create resource provider "${input.name}", ${input.uuid}: Object action create failed because: ${reason}`,
    );
  try {
    return await core.tx(async (tx) => {
      let parent: Provider | null = null;
      if (input.parentUuid !== null) {
        if (input.parentUuid === input.uuid)
          throw fail(
            "parent provider UUID cannot be same as UUID. Please set parent provider UUID to None if there is no parent.",
          );
        parent = await getProvider(tx, input.parentUuid);
        if (!parent) throw fail("parent provider UUID does not exist.");
      }
      // Name and uuid are checked first so that the error names the duplicate on every engine.
      const dup = await tx
        .selectFrom("placement_provider")
        .select(["uuid", "name"])
        .where((eb) => eb.or([eb("uuid", "=", input.uuid), eb("name", "=", input.name)]))
        .execute();
      if (dup.length) {
        const parts: string[] = [];
        if (dup.some((d) => d.uuid === input.uuid)) parts.push(`uuid: ${input.uuid}`);
        if (dup.some((d) => d.name === input.name)) parts.push(`name: ${input.name}`);
        throw conflict(
          `Conflicting resource provider ${parts.join(", ")} already exists.`,
          CODES.DUPLICATE_NAME,
        );
      }
      const now = nowIso();
      const id = await core.insertId(
        tx.insertInto("placement_provider").values({
          uuid: input.uuid,
          name: input.name,
          generation: 0,
          parent_id: parent?.id ?? null,
          root_id: parent?.root_id ?? null,
          created_at: now,
          updated_at: now,
        }),
      );
      if (!parent)
        await tx.updateTable("placement_provider").set({ root_id: id }).where("id", "=", id).execute();
      return (await getProvider(tx, input.uuid)) as Provider;
    });
  } catch (e) {
    if (isUniqueViolation(e))
      throw conflict(duplicateMessage(e, input.uuid, input.name), CODES.DUPLICATE_NAME);
    throw e;
  }
}

/** Ids of a provider and all its descendants. */
async function subtreeIds(db: Db, p: Provider): Promise<number[]> {
  const rows = await db
    .selectFrom("placement_provider")
    .select(["id", "parent_id"])
    .where("root_id", "=", p.root_id)
    .execute();
  const children = new Map<number, number[]>();
  for (const r of rows) {
    if (r.parent_id === null) continue;
    const k = Number(r.parent_id);
    (children.get(k) ?? children.set(k, []).get(k)!).push(Number(r.id));
  }
  const out: number[] = [];
  const stack = [p.id];
  while (stack.length) {
    const id = stack.pop()!;
    out.push(id);
    stack.push(...(children.get(id) ?? []));
  }
  return out;
}

/**
 * Rename and/or (re)parent a provider. Before 1.37 a parent may only be set where there was none; from 1.37 a
 * provider may move to any provider outside its own subtree, or become a root (parent null); its subtree moves
 * with it.
 */
export async function updateProvider(
  core: PlacementCore,
  uuid: string,
  input: { name: string; parentUuid?: string | null },
  allowReparenting: boolean,
): Promise<Provider> {
  const fail = (action: string, reason: string) =>
    badRequest(`Unable to save resource provider ${uuid}: Object action ${action} failed because: ${reason}`);
  try {
    return await core.tx(async (tx) => {
      const p = await getProvider(tx, uuid);
      if (!p) throw notFound(`No resource provider with uuid ${uuid} found`);
      const now = nowIso();
      const set: Record<string, unknown> = { name: input.name, updated_at: now };
      let moveTo: { parentId: number | null; rootId: number } | null = null;
      if (input.parentUuid !== undefined) {
        if (input.parentUuid !== null) {
          const parent = await getProvider(tx, input.parentUuid);
          if (!parent) throw fail("create", "parent provider UUID does not exist.");
          if (p.parent_id !== null && p.parent_id !== parent.id && !allowReparenting)
            throw fail("update", "re-parenting a provider is not currently allowed.");
          if (p.parent_id !== parent.id) {
            const subtree = await subtreeIds(tx, p);
            if (subtree.includes(parent.id))
              throw fail("update", "creating loop in the provider tree is not allowed.");
            moveTo = { parentId: parent.id, rootId: parent.root_id };
          }
        } else if (p.parent_id !== null) {
          if (!allowReparenting) throw fail("update", "un-parenting a provider is not currently allowed.");
          moveTo = { parentId: null, rootId: p.id };
        }
      }
      if (moveTo) {
        const subtree = await subtreeIds(tx, p);
        set.parent_id = moveTo.parentId;
        await tx
          .updateTable("placement_provider")
          .set({ root_id: moveTo.rootId })
          .where("id", "in", subtree)
          .execute();
      }
      await tx.updateTable("placement_provider").set(set).where("id", "=", p.id).execute();
      return (await getProvider(tx, uuid)) as Provider;
    });
  } catch (e) {
    if (isUniqueViolation(e))
      throw conflict(`Conflicting resource provider ${input.name} already exists.`, CODES.DUPLICATE_NAME);
    throw e;
  }
}

/** Delete a provider with its inventories, traits and aggregates; 409 if it has children or allocations. */
export async function deleteProvider(core: PlacementCore, uuid: string): Promise<boolean> {
  return core.tx(async (tx) => {
    const p = await getProvider(tx, uuid);
    if (!p) return false;
    const child = await tx
      .selectFrom("placement_provider")
      .select("id")
      .where("parent_id", "=", p.id)
      .limit(1)
      .executeTakeFirst();
    if (child)
      throw conflict(
        `Unable to delete parent resource provider ${uuid}: It has child resource providers.`,
        CODES.PROVIDER_CANNOT_DELETE_PARENT,
      );
    const alloc = await tx
      .selectFrom("placement_allocation")
      .select("provider_id")
      .where("provider_id", "=", p.id)
      .limit(1)
      .executeTakeFirst();
    if (alloc)
      throw conflict(
        `Unable to delete resource provider ${uuid}: Resource provider has allocations.`,
        CODES.PROVIDER_IN_USE,
      );
    await tx.deleteFrom("placement_inventory").where("provider_id", "=", p.id).execute();
    await tx.deleteFrom("placement_provider_trait").where("provider_id", "=", p.id).execute();
    await tx.deleteFrom("placement_provider_aggregate").where("provider_id", "=", p.id).execute();
    await tx.deleteFrom("placement_provider").where("id", "=", p.id).execute();
    return true;
  });
}

/** Filters of GET /resource_providers, already resolved to ids. */
export interface ProviderFilters {
  name?: string;
  uuid?: string;
  /** Root id of the in_tree provider (null: the provider does not exist, so nothing matches). */
  inTreeRoot?: number | null;
  /** Each inner list: the provider has at least one of these traits. */
  requiredTraits?: number[][];
  forbiddenTraits?: number[];
  /** Each inner list: the provider is in at least one of these aggregates. */
  memberOf?: string[][];
  forbiddenAggs?: string[];
  /** rc id -> amount the provider must be able to take. */
  resources?: Map<number, number>;
}

/** Providers matching every filter, in creation order. */
export async function listProviders(db: Db, f: ProviderFilters): Promise<Provider[]> {
  const conds = [];
  if (f.name !== undefined) conds.push(sql`rp.name = ${f.name}`);
  if (f.uuid !== undefined) conds.push(sql`rp.uuid = ${f.uuid}`);
  if (f.inTreeRoot !== undefined) {
    if (f.inTreeRoot === null) return [];
    conds.push(sql`rp.root_id = ${int(f.inTreeRoot)}`);
  }
  for (const any of f.requiredTraits ?? []) conds.push(hasAnyTrait("rp.id", any));
  if (f.forbiddenTraits?.length) conds.push(sql`NOT ${hasAnyTrait("rp.id", f.forbiddenTraits)}`);
  for (const any of f.memberOf ?? []) conds.push(inAnyAggregate("rp.id", any));
  if (f.forbiddenAggs?.length) conds.push(sql`NOT ${inAnyAggregate("rp.id", f.forbiddenAggs)}`);
  if (f.resources?.size) {
    if ([...f.resources.values()].some((amount) => amount > MAX_INT)) return [];
    const fit = await capacityIds([...f.resources]).execute(db);
    if (!fit.rows.length) return [];
    conds.push(sql`rp.id IN ${intList(fit.rows.map((r: any) => Number(r.id)))}`);
  }
  const r = await sql`${SELECT_PROVIDER} WHERE ${and(conds)} ORDER BY rp.id`.execute(db);
  return r.rows.map(toProvider);
}
