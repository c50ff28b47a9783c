import { randomBytes } from "node:crypto";
import { fromDbBool, isUniqueViolation, nowIso, toDbBool } from "../../shared/db/index.js";
import type { IdentityCore } from "../core.js";
import { duplicate, notFoundEntity } from "../errors.js";
import { json } from "../tables.js";

/** A generated secret (64 random bytes, base64url) that never starts with "-", which CLIs would read as an option. */
export function generatedSecret(): string {
  for (;;) {
    const s = randomBytes(64).toString("base64url");
    if (!s.startsWith("-")) return s;
  }
}

/** An access rule attached to an application credential. */
export interface AccessRuleRecord {
  id: string;
  service: string;
  path: string;
  method: string;
}

/** An application credential (without its secret hash). */
export interface AppCred {
  id: string;
  name: string;
  description: string | null;
  user_id: string;
  project_id: string | null;
  system: string | null;
  expires_at: string | null;
  unrestricted: boolean;
  roles: Array<{ id: string; name: string; domain_id: string | null }>;
  access_rules: AccessRuleRecord[] | null;
}

type Row = {
  id: string;
  name: string;
  secret_hash: string;
  description: string | null;
  user_id: string;
  project_id: string | null;
  system: string | null;
  expires_at: string | null;
  unrestricted: number;
  roles: string;
  access_rules: string | null;
};

const fromRow = (r: Row): AppCred => ({
  id: r.id,
  name: r.name,
  description: r.description,
  user_id: r.user_id,
  project_id: r.project_id,
  system: r.system,
  expires_at: r.expires_at,
  unrestricted: fromDbBool(r.unrestricted),
  roles: json(r.roles, []),
  access_rules: r.access_rules === null ? null : json(r.access_rules, []),
});

/** An application credential with its secret hash, for authentication. */
export async function findAppCredForAuth(
  core: IdentityCore,
  by: { id: string } | { name: string; userId: string },
): Promise<(AppCred & { secret_hash: string }) | null> {
  let q = core.db.selectFrom("identity_app_cred").selectAll();
  q = "id" in by ? q.where("id", "=", by.id) : q.where("name", "=", by.name).where("user_id", "=", by.userId);
  const r = await q.executeTakeFirst();
  return r ? { ...fromRow(r), secret_hash: r.secret_hash } : null;
}

/** A user's application credential, or 404. */
export async function getAppCred(core: IdentityCore, userId: string, id: string): Promise<AppCred> {
  const r = await core.db
    .selectFrom("identity_app_cred")
    .selectAll()
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  if (!r) throw notFoundEntity("application credential", id);
  return fromRow(r);
}

/** A user's application credentials, optionally by name. */
export async function listAppCreds(core: IdentityCore, userId: string, name?: string): Promise<AppCred[]> {
  let q = core.db.selectFrom("identity_app_cred").selectAll().where("user_id", "=", userId);
  if (name !== undefined) q = q.where("name", "=", name);
  return (await q.orderBy("name").execute()).map(fromRow);
}

/** Input to create an application credential; the secret is generated when not given. */
export interface AppCredInput {
  name: string;
  description?: string | null;
  secret?: string | null;
  user_id: string;
  project_id: string | null;
  system?: string | null;
  expires_at?: string | null;
  unrestricted?: boolean;
  roles: Array<{ id: string; name: string; domain_id: string | null }>;
  access_rules?: Array<{ id?: string; service: string; path: string; method: string }> | null;
}

/** Create an application credential; returns it with its (only-once-visible) secret. */
export async function createAppCred(
  core: IdentityCore,
  input: AppCredInput,
): Promise<AppCred & { secret: string }> {
  const id = core.newId();
  const secret = input.secret || generatedSecret();
  if (
    await core.db
      .selectFrom("identity_app_cred")
      .select("id")
      .where("user_id", "=", input.user_id)
      .where("name", "=", input.name)
      .executeTakeFirst()
  )
    throw duplicate("application credential", "name", input.name);
  const hash = await core.hasher.hash(secret);
  let rules: AccessRuleRecord[] | null = null;
  if (input.access_rules) {
    rules = [];
    for (const r of input.access_rules) {
      if (r.id) {
        const existing = await core.db
          .selectFrom("identity_access_rule")
          .selectAll()
          .where("id", "=", r.id)
          .where("user_id", "=", input.user_id)
          .executeTakeFirst();
        if (!existing) throw notFoundEntity("access rule", r.id);
        rules.push({
          id: existing.id,
          service: existing.service,
          path: existing.path,
          method: existing.method,
        });
        continue;
      }
      const same = await core.db
        .selectFrom("identity_access_rule")
        .selectAll()
        .where("user_id", "=", input.user_id)
        .where("service", "=", r.service)
        .where("path", "=", r.path)
        .where("method", "=", r.method)
        .executeTakeFirst();
      if (same) rules.push({ id: same.id, service: same.service, path: same.path, method: same.method });
      else {
        const rid = core.newId();
        await core.db
          .insertInto("identity_access_rule")
          .values({ id: rid, user_id: input.user_id, service: r.service, path: r.path, method: r.method })
          .execute();
        rules.push({ id: rid, service: r.service, path: r.path, method: r.method });
      }
    }
  }
  try {
    await core.db
      .insertInto("identity_app_cred")
      .values({
        id,
        name: input.name,
        secret_hash: hash,
        description: input.description ?? null,
        user_id: input.user_id,
        project_id: input.project_id,
        system: input.system ?? null,
        expires_at: input.expires_at ?? null,
        unrestricted: toDbBool(input.unrestricted ?? false),
        roles: JSON.stringify(input.roles),
        access_rules: rules ? JSON.stringify(rules) : null,
        created_at: nowIso(),
      })
      .execute();
  } catch (e) {
    if (isUniqueViolation(e)) throw duplicate("application credential", "name", input.name);
    throw e;
  }
  core.changed();
  return { ...(await getAppCred(core, input.user_id, id)), secret };
}

/** Delete an application credential. */
export async function deleteAppCred(core: IdentityCore, id: string): Promise<void> {
  await core.db.deleteFrom("identity_app_cred").where("id", "=", id).execute();
  core.changed();
}

/** A user's access rules. */
export async function listAccessRules(core: IdentityCore, userId: string): Promise<AccessRuleRecord[]> {
  const rows = await core.db
    .selectFrom("identity_access_rule")
    .selectAll()
    .where("user_id", "=", userId)
    .execute();
  return rows.map((r) => ({ id: r.id, service: r.service, path: r.path, method: r.method }));
}

/** One of a user's access rules, or 404. */
export async function getAccessRule(
  core: IdentityCore,
  userId: string,
  id: string,
): Promise<AccessRuleRecord> {
  const r = await core.db
    .selectFrom("identity_access_rule")
    .selectAll()
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  if (!r) throw notFoundEntity("access rule", id);
  return { id: r.id, service: r.service, path: r.path, method: r.method };
}

/** Delete an access rule; refused (403) while an application credential uses it. */
export async function deleteAccessRule(
  core: IdentityCore,
  userId: string,
  id: string,
): Promise<"deleted" | "missing" | "in-use"> {
  const r = await core.db
    .selectFrom("identity_access_rule")
    .select("id")
    .where("id", "=", id)
    .where("user_id", "=", userId)
    .executeTakeFirst();
  if (!r) return "missing";
  const creds = await listAppCreds(core, userId);
  if (creds.some((c) => c.access_rules?.some((a) => a.id === id))) return "in-use";
  await core.db.deleteFrom("identity_access_rule").where("id", "=", id).execute();
  core.changed();
  return "deleted";
}
