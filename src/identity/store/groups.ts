import { isUniqueViolation } from "../../shared/db/index.js";
import type { IdentityCore } from "../core.js";
import { duplicate, notFoundEntity } from "../errors.js";
import { json } from "../tables.js";

/** A group of users. */
export interface Group {
  id: string;
  name: string;
  domain_id: string;
  description: string;
  extra: Record<string, unknown>;
}

/** A group by id, or 404. */
export async function getGroup(core: IdentityCore, id: string): Promise<Group> {
  const r = await core.db.selectFrom("identity_group").selectAll().where("id", "=", id).executeTakeFirst();
  if (!r) throw notFoundEntity("group", id);
  return {
    id: r.id,
    name: r.name,
    domain_id: r.domain_id,
    description: r.description ?? "",
    extra: json(r.extra, {}),
  };
}

/** List groups, optionally by domain, name or member. */
export async function listGroups(
  core: IdentityCore,
  f: { domain_id?: string; name?: string; user_id?: string },
): Promise<Group[]> {
  let q = core.db.selectFrom("identity_group").selectAll("identity_group");
  if (f.domain_id !== undefined) q = q.where("identity_group.domain_id", "=", f.domain_id);
  if (f.name !== undefined) q = q.where("identity_group.name", "=", f.name);
  if (f.user_id !== undefined)
    q = q
      .innerJoin("identity_membership", "identity_membership.group_id", "identity_group.id")
      .where("identity_membership.user_id", "=", f.user_id);
  const rows = await q.orderBy("identity_group.name").execute();
  return rows.map((r) => ({
    id: r.id,
    name: r.name,
    domain_id: r.domain_id,
    description: r.description ?? "",
    extra: json(r.extra, {}),
  }));
}

/** Create a group; 409 on a duplicate name in the domain. */
export async function createGroup(
  core: IdentityCore,
  input: { name: string; domain_id: string; description?: string | null; extra?: Record<string, unknown> },
): Promise<Group> {
  const id = core.newId();
  try {
    await core.db
      .insertInto("identity_group")
      .values({
        id,
        name: input.name,
        domain_id: input.domain_id,
        description: input.description ?? null,
        extra: JSON.stringify(input.extra ?? {}),
      })
      .execute();
  } catch (e) {
    if (isUniqueViolation(e)) throw duplicate("group", "name", input.name);
    throw e;
  }
  core.changed();
  return getGroup(core, id);
}

/** Update a group's name, description or extra attributes. */
export async function updateGroup(
  core: IdentityCore,
  g: Group,
  patch: { name?: string; description?: string | null; extra?: Record<string, unknown> },
): Promise<Group> {
  const values: Record<string, unknown> = {};
  if (patch.name !== undefined) values.name = patch.name;
  if (patch.description !== undefined) values.description = patch.description;
  if (patch.extra !== undefined) values.extra = JSON.stringify({ ...g.extra, ...patch.extra });
  if (Object.keys(values).length) {
    try {
      await core.db.updateTable("identity_group").set(values).where("id", "=", g.id).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw duplicate("group", "name", patch.name ?? g.name);
      throw e;
    }
  }
  core.changed();
  return getGroup(core, g.id);
}

/** Delete a group with its memberships and assignments. */
export async function deleteGroup(core: IdentityCore, id: string): Promise<void> {
  await core.db.transaction().execute(async (tx) => {
    await tx.deleteFrom("identity_membership").where("group_id", "=", id).execute();
    await tx.deleteFrom("identity_assignment").where("actor_id", "=", id).execute();
    await tx.deleteFrom("identity_group").where("id", "=", id).execute();
  });
  core.changed();
}

/** Ids of the groups a user belongs to. */
export async function groupIdsOf(core: IdentityCore, userId: string): Promise<string[]> {
  const rows = await core.db
    .selectFrom("identity_membership")
    .select("group_id")
    .where("user_id", "=", userId)
    .execute();
  return rows.map((r) => r.group_id);
}

/** Ids of a group's members. */
export async function memberIds(core: IdentityCore, groupId: string): Promise<string[]> {
  const rows = await core.db
    .selectFrom("identity_membership")
    .select("user_id")
    .where("group_id", "=", groupId)
    .execute();
  return rows.map((r) => r.user_id);
}

/** Add a user to a group (idempotent). */
export async function addMember(core: IdentityCore, groupId: string, userId: string): Promise<void> {
  try {
    await core.db.insertInto("identity_membership").values({ group_id: groupId, user_id: userId }).execute();
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
  }
  core.changed();
}

/** Remove a user from a group; false if they were not a member. */
export async function removeMember(core: IdentityCore, groupId: string, userId: string): Promise<boolean> {
  const r = await core.db
    .deleteFrom("identity_membership")
    .where("group_id", "=", groupId)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  core.changed();
  return Number(r.numDeletedRows) > 0;
}
