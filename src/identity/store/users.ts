import { fromDbBool, isUniqueViolation, nowIso, toDbBool } from "../../shared/db/index.js";
import type { IdentityCore } from "../core.js";
import { duplicate, notFoundEntity } from "../errors.js";
import { json, type IdentityTables } from "../tables.js";

/** A user as the service sees it (without the password hash). */
export interface User {
  id: string;
  name: string;
  domain_id: string;
  enabled: boolean;
  default_project_id: string | null;
  password_expires_at: string | null;
  options: Record<string, unknown>;
  extra: Record<string, unknown>;
  created_at: string;
}

type Row = IdentityTables["identity_user"];

function fromRow(r: Row): User {
  return {
    id: r.id,
    name: r.name,
    domain_id: r.domain_id,
    enabled: fromDbBool(r.enabled),
    default_project_id: r.default_project_id,
    password_expires_at: r.password_expires_at,
    options: json(r.options, {}),
    extra: json(r.extra, {}),
    created_at: r.created_at,
  };
}

/** A user by id, or null. */
export async function findUser(core: IdentityCore, id: string): Promise<User | null> {
  const r = await core.db.selectFrom("identity_user").selectAll().where("id", "=", id).executeTakeFirst();
  return r ? fromRow(r) : null;
}

/** A user by id, or 404. */
export async function getUser(core: IdentityCore, id: string): Promise<User> {
  const u = await findUser(core, id);
  if (!u) throw notFoundEntity("user", id);
  return u;
}

/** A user with its password hash, by id or by name within a domain; null if absent. */
export async function findUserForAuth(
  core: IdentityCore,
  by: { id: string } | { name: string; domainId: string },
): Promise<(User & { password_hash: string | null }) | null> {
  let q = core.db.selectFrom("identity_user").selectAll();
  q =
    "id" in by
      ? q.where("id", "=", by.id)
      : q.where("name", "=", by.name).where("domain_id", "=", by.domainId);
  const r = await q.executeTakeFirst();
  return r ? { ...fromRow(r), password_hash: r.password_hash } : null;
}

/** Filters for listing users. */
export interface UserFilter {
  domain_id?: string;
  name?: string;
  enabled?: boolean;
  ids?: string[];
  password_expires_at?: { op: "lt" | "lte" | "gt" | "gte" | "eq" | "neq"; value: string };
}

/** List users matching a filter, ordered by name. */
export async function listUsers(core: IdentityCore, f: UserFilter): Promise<User[]> {
  let q = core.db.selectFrom("identity_user").selectAll();
  if (f.domain_id !== undefined) q = q.where("domain_id", "=", f.domain_id);
  if (f.name !== undefined) q = q.where("name", "=", f.name);
  if (f.enabled !== undefined) q = q.where("enabled", "=", toDbBool(f.enabled));
  if (f.ids !== undefined) {
    if (f.ids.length === 0) return [];
    q = q.where("id", "in", f.ids);
  }
  if (f.password_expires_at) {
    const ops = { lt: "<", lte: "<=", gt: ">", gte: ">=", eq: "=", neq: "<>" } as const;
    q = q.where("password_expires_at", ops[f.password_expires_at.op], f.password_expires_at.value);
  }
  return (await q.orderBy("name").execute()).map(fromRow);
}

/** Fields accepted when creating a user. */
export interface UserInput {
  id?: string;
  name: string;
  domain_id: string;
  enabled?: boolean;
  default_project_id?: string | null;
  password?: string | null;
  options?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/** Create a user, hashing the password off the event loop; 409 on a duplicate name in the domain. */
export async function createUser(core: IdentityCore, input: UserInput): Promise<User> {
  const id = input.id ?? core.newId();
  const now = nowIso();
  const hash = input.password ? await core.hasher.hash(input.password) : null;
  try {
    await core.db
      .insertInto("identity_user")
      .values({
        id,
        name: input.name,
        domain_id: input.domain_id,
        enabled: toDbBool(input.enabled ?? true),
        default_project_id: input.default_project_id ?? null,
        password_hash: hash,
        password_created_at: hash ? now : null,
        password_expires_at: null,
        extra: JSON.stringify(input.extra ?? {}),
        options: JSON.stringify(input.options ?? {}),
        created_at: now,
        last_active_at: null,
      })
      .execute();
  } catch (e) {
    if (isUniqueViolation(e)) throw duplicate("user", "name", input.name);
    throw e;
  }
  core.changed();
  return getUser(core, id);
}

/** Fields that may be changed on a user. */
export interface UserPatch {
  name?: string;
  enabled?: boolean;
  default_project_id?: string | null;
  password?: string | null;
  options?: Record<string, unknown>;
  extra?: Record<string, unknown>;
}

/** Update a user; a new password is hashed; returns the new state. */
export async function updateUser(core: IdentityCore, existing: User, patch: UserPatch): Promise<User> {
  const values: Partial<Row> = {};
  if (patch.name !== undefined) values.name = patch.name;
  if (patch.enabled !== undefined) values.enabled = toDbBool(patch.enabled);
  if (patch.default_project_id !== undefined) values.default_project_id = patch.default_project_id;
  if (patch.options !== undefined) values.options = JSON.stringify({ ...existing.options, ...patch.options });
  if (patch.extra !== undefined) values.extra = JSON.stringify({ ...existing.extra, ...patch.extra });
  if (patch.password !== undefined) {
    values.password_hash = patch.password ? await core.hasher.hash(patch.password) : null;
    values.password_created_at = nowIso();
  }
  if (Object.keys(values).length) {
    try {
      await core.db.updateTable("identity_user").set(values).where("id", "=", existing.id).execute();
    } catch (e) {
      if (isUniqueViolation(e)) throw duplicate("user", "name", patch.name ?? existing.name);
      throw e;
    }
  }
  core.changed();
  return getUser(core, existing.id);
}

/** Delete a user, its memberships, assignments, application credentials and credentials. */
export async function deleteUser(core: IdentityCore, id: string): Promise<void> {
  await core.db.transaction().execute(async (tx) => {
    await tx.deleteFrom("identity_membership").where("user_id", "=", id).execute();
    await tx.deleteFrom("identity_assignment").where("actor_id", "=", id).execute();
    await tx.deleteFrom("identity_app_cred").where("user_id", "=", id).execute();
    await tx.deleteFrom("identity_access_rule").where("user_id", "=", id).execute();
    await tx.deleteFrom("identity_credential").where("user_id", "=", id).execute();
    await tx.deleteFrom("identity_user").where("id", "=", id).execute();
  });
  core.changed();
}
