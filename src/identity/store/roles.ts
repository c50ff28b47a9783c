import { isUniqueViolation } from "../../shared/db/index.js";
import type { IdentityCore } from "../core.js";
import { duplicate, notFoundEntity } from "../errors.js";
import { json } from "../tables.js";

/** Stored domain_id of global roles (SQL unique constraints treat NULLs as distinct). */
export const GLOBAL = "<<null>>";

/** A role (global, or domain-specific when domain_id is set). */
export interface Role {
  id: string;
  name: string;
  domain_id: string | null;
  description: string | null;
  options: Record<string, unknown>;
  extra: Record<string, unknown>;
}

type RoleRow = {
  id: string;
  name: string;
  domain_id: string;
  description: string | null;
  extra: string | null;
  options: string | null;
};
const fromRow = (r: RoleRow): Role => ({
  id: r.id,
  name: r.name,
  domain_id: r.domain_id === GLOBAL ? null : r.domain_id,
  description: r.description,
  options: json(r.options, {}),
  extra: json(r.extra, {}),
});

/** A role by id, or null. */
export async function findRole(core: IdentityCore, id: string): Promise<Role | null> {
  const r = await core.db.selectFrom("identity_role").selectAll().where("id", "=", id).executeTakeFirst();
  return r ? fromRow(r) : null;
}

/** A role by id, or 404. */
export async function getRole(core: IdentityCore, id: string): Promise<Role> {
  const r = await findRole(core, id);
  if (!r) throw notFoundEntity("role", id);
  return r;
}

/** List roles: global ones by default, a domain's when domain_id is given. */
export async function listRoles(
  core: IdentityCore,
  f: { name?: string; domain_id?: string | null },
): Promise<Role[]> {
  let q = core.db
    .selectFrom("identity_role")
    .selectAll()
    .where("domain_id", "=", f.domain_id ?? GLOBAL);
  if (f.name !== undefined) q = q.where("name", "=", f.name);
  return (await q.orderBy("name").execute()).map(fromRow);
}

/** Every role, global and domain-specific, keyed by id. */
export async function allRoles(core: IdentityCore): Promise<Map<string, Role>> {
  const rows = await core.db.selectFrom("identity_role").selectAll().execute();
  return new Map(rows.map((r) => [r.id, fromRow(r)]));
}

/** Create a role; 409 on a duplicate name in the same domain (or globally). */
export async function createRole(
  core: IdentityCore,
  input: {
    id?: string;
    name: string;
    domain_id?: string | null;
    description?: string | null;
    options?: Record<string, unknown>;
    extra?: Record<string, unknown>;
  },
): Promise<Role> {
  const id = input.id ?? core.newId();
  try {
    await core.db
      .insertInto("identity_role")
      .values({
        id,
        name: input.name,
        domain_id: input.domain_id ?? GLOBAL,
        description: input.description ?? null,
        options: JSON.stringify(input.options ?? {}),
        extra: JSON.stringify(input.extra ?? {}),
      })
      .execute();
  } catch (e) {
    if (isUniqueViolation(e)) throw duplicate("role", "name", input.name);
    throw e;
  }
  core.changed();
  return getRole(core, id);
}

/** Update a role's name, description, options or extra attributes. */
export async function updateRole(
  core: IdentityCore,
  role: Role,
  patch: {
    name?: string;
    description?: string | null;
    options?: Record<string, unknown>;
    extra?: Record<string, unknown>;
  },
): Promise<Role> {
  const values: Record<string, unknown> = {};
  if (patch.name !== undefined) values.name = patch.name;
  if (patch.description !== undefined) values.description = patch.description;
  if (patch.options !== undefined) values.options = JSON.stringify({ ...role.options, ...patch.options });
  if (patch.extra !== undefined) values.extra = JSON.stringify({ ...role.extra, ...patch.extra });
  if (Object.keys(values).length) {
    try {
      await core.db.updateTable("identity_role").set(values).where("id", "=", role.id).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw duplicate("role", "name", patch.name ?? role.name);
      throw e;
    }
  }
  core.changed();
  return getRole(core, role.id);
}

/** Delete a role with its assignments and implications. */
export async function deleteRole(core: IdentityCore, id: string): Promise<void> {
  await core.db.transaction().execute(async (tx) => {
    await tx.deleteFrom("identity_assignment").where("role_id", "=", id).execute();
    await tx
      .deleteFrom("identity_implied_role")
      .where((eb) => eb.or([eb("prior_role_id", "=", id), eb("implied_role_id", "=", id)]))
      .execute();
    await tx.deleteFrom("identity_role").where("id", "=", id).execute();
  });
  core.changed();
}

/** All implication edges prior → implied. */
export async function impliedEdges(
  core: IdentityCore,
): Promise<Array<{ prior_role_id: string; implied_role_id: string }>> {
  return core.db.selectFrom("identity_implied_role").selectAll().execute();
}

/** Add an implication prior ⇒ implied; rejects cycles with 400... Keystone answers 409 for a loop. */
export async function addImplication(core: IdentityCore, prior: string, implied: string): Promise<boolean> {
  const edges = await impliedEdges(core);
  const reach = new Set([implied]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const e of edges)
      if (reach.has(e.prior_role_id) && !reach.has(e.implied_role_id)) {
        reach.add(e.implied_role_id);
        grew = true;
      }
  }
  if (reach.has(prior) || prior === implied) return false;
  try {
    await core.db
      .insertInto("identity_implied_role")
      .values({ prior_role_id: prior, implied_role_id: implied })
      .execute();
  } catch (e) {
    if (!isUniqueViolation(e)) throw e;
  }
  core.changed();
  return true;
}

/** Remove an implication; false if it did not exist. */
export async function removeImplication(
  core: IdentityCore,
  prior: string,
  implied: string,
): Promise<boolean> {
  const r = await core.db
    .deleteFrom("identity_implied_role")
    .where("prior_role_id", "=", prior)
    .where("implied_role_id", "=", implied)
    .executeTakeFirst();
  core.changed();
  return Number(r.numDeletedRows) > 0;
}

/** Expand role ids with everything they imply (transitively). */
export function expandImplied(
  roleIds: Iterable<string>,
  edges: Array<{ prior_role_id: string; implied_role_id: string }>,
): Set<string> {
  const out = new Set(roleIds);
  let grew = true;
  while (grew) {
    grew = false;
    for (const e of edges)
      if (out.has(e.prior_role_id) && !out.has(e.implied_role_id)) {
        out.add(e.implied_role_id);
        grew = true;
      }
  }
  return out;
}
